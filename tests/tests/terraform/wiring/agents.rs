//! Agents in any region.

use super::*;
use e2e_tests::terraform_check::model::{attr, blocks, label, literal, literals, object_get, text};
use hcl::expr::Expression;
use std::collections::{BTreeMap, BTreeSet};

/// The agent's envelopes (`monitoring.agent`, `monitoring.agent.logs`)
/// reach the master through a default-bus rule (so EventBridge keeps the
/// agent's account and region), with a role, a retry policy and a
/// dead-letter queue; the master's config pushes (`monitoring.master`)
/// are never forwarded back; the master bus admits every forwarded
/// source, only from the agent accounts or the organisation.
#[test]
fn agents_forward_their_envelopes_to_the_master_bus_and_never_the_masters_pushes() {
    let agent = Module::load("modules/agent");
    let locals = agent.locals();
    let mut forwarded = BTreeSet::new();
    let mut rules = Vec::new();
    for target in agent.all("resource", "aws_cloudwatch_event_target") {
        let body = &target.body;
        if attr(body, "arn").and_then(|e| root_attr(e, "var")) != Some("master_event_bus_arn") {
            continue;
        }
        check_forward_target(&agent, target);
        let rule_name = attr(body, "rule")
            .and_then(|e| ref_to(e, "aws_cloudwatch_event_rule"))
            .unwrap_or_else(|| {
                panic!(
                    "aws_cloudwatch_event_target.{}: rule = aws_cloudwatch_event_rule.X.name",
                    label(target, 1)
                )
            });
        forwarded.extend(forwarded_sources(&agent, &locals, &rule_name));
        rules.push(rule_name);
    }
    assert!(
        !rules.is_empty(),
        "no default-bus rule targets var.master_event_bus_arn"
    );
    for source in ["monitoring.agent", "monitoring.agent.logs"] {
        assert!(
            forwarded.contains(source),
            "no rule forwards {source} to the master bus (forwarded: {forwarded:?})"
        );
    }
    assert!(
        !forwarded.contains("monitoring.master"),
        "a rule forwards the master's config pushes back to it"
    );

    master_bus_admits(&forwarded);
}

/// A target forwarding to the master bus: retry policy, dead-letter queue,
/// and a role allowed events:PutEvents on the master bus.
fn check_forward_target(agent: &Module, target: &hcl::Block) {
    let body = &target.body;
    let address = format!("aws_cloudwatch_event_target.{}", label(target, 1));
    let retry = blocks(body, "retry_policy")
        .next()
        .unwrap_or_else(|| panic!("{address}: no retry_policy"));
    for a in ["maximum_retry_attempts", "maximum_event_age_in_seconds"] {
        assert!(
            attr(&retry.body, a).is_some(),
            "{address}: retry_policy without {a}"
        );
    }
    let dlq = blocks(body, "dead_letter_config")
        .next()
        .and_then(|d| attr(&d.body, "arn"))
        .and_then(|e| ref_to(e, "aws_sqs_queue"))
        .unwrap_or_else(|| {
            panic!("{address}: no dead_letter_config {{ arn = aws_sqs_queue.X.arn }}")
        });
    agent.one("resource", "aws_sqs_queue", &dlq);
    let role = attr(body, "role_arn")
        .and_then(|e| ref_to(e, "aws_iam_role"))
        .unwrap_or_else(|| panic!("{address}: a bus in another account needs role_arn"));
    let grants = role_grants(agent, &role);
    assert!(
        grants
            .iter()
            .any(|(actions, resources)| actions == &["events:PutEvents"]
                && resources == "[var.master_event_bus_arn]"),
        "aws_iam_role.{role} must be allowed events:PutEvents on the master bus: {grants:?}"
    );
}

/// The sources the default-bus rule `rule_name` forwards (exact names only),
/// on the default bus, and always there when it forwards the envelopes.
fn forwarded_sources(
    agent: &Module,
    locals: &BTreeMap<String, Expression>,
    rule_name: &str,
) -> BTreeSet<String> {
    let rule = agent.one("resource", "aws_cloudwatch_event_rule", rule_name);
    assert!(
        attr(&rule.body, "event_bus_name").is_none_or(|e| literal(e) == Some("default")),
        "aws_cloudwatch_event_rule.{rule_name} must be on the default bus, where the agent publishes"
    );
    let pattern = attr(&rule.body, "event_pattern")
        .unwrap_or_else(|| panic!("aws_cloudwatch_event_rule.{rule_name}: no event_pattern"));
    let mut entries = Vec::new();
    objects(pattern, locals, &mut entries);
    assert!(
        !entries.is_empty(),
        "{rule_name}: event_pattern holds no object"
    );
    let mut sources = BTreeSet::new();
    for entry in &entries {
        if keys_of(entry) == ["$or"] {
            continue;
        }
        let source = object_get(entry, "source").unwrap_or_else(|| {
            panic!(
                "{rule_name}: a pattern entry without source forwards every source, monitoring.master included: {}",
                text(entry)
            )
        });
        let source = resolve(source, locals);
        let Expression::Array(items) = &source else {
            panic!("{rule_name}: source is not a list: {}", text(&source));
        };
        for item in items {
            let name = literal(item).unwrap_or_else(|| {
                panic!(
                    "{rule_name}: source values must be exact names (no prefix, anything-but or wildcard): {}",
                    text(&source)
                )
            });
            sources.insert(name.to_owned());
        }
    }
    if sources.iter().any(|s| s.starts_with("monitoring.")) {
        assert!(
            attr(&rule.body, "count").is_none() && attr(&rule.body, "for_each").is_none(),
            "{rule_name} forwards the agent's envelopes: it must always exist"
        );
    }
    sources
}

/// The master bus admits every forwarded source, and no other principal
/// than the agent accounts or the organisation.
fn master_bus_admits(forwarded: &BTreeSet<String>) {
    let master = Module::load("modules/master");
    let bus_sources: BTreeSet<String> = master
        .locals()
        .get("bus_sources")
        .map(literals)
        .expect("local.bus_sources")
        .into_iter()
        .collect();
    let refused: Vec<_> = forwarded.difference(&bus_sources).collect();
    assert!(
        refused.is_empty(),
        "the master bus refuses forwarded sources {refused:?}"
    );
    assert!(!bus_sources.contains("monitoring.master"));
    let doc = master.one("data", "aws_iam_policy_document", "event_bus");
    let statements = statements(doc);
    assert!(!statements.is_empty());
    for st in statements {
        assert_eq!(
            attr(st, "actions").map(literals),
            Some(vec!["events:PutEvents".to_owned()])
        );
        let conditions: Vec<(String, String)> = blocks(st, "condition")
            .map(|c| {
                (
                    attr(&c.body, "variable")
                        .and_then(literal)
                        .unwrap_or_default()
                        .to_owned(),
                    attr(&c.body, "values").map(text).unwrap_or_default(),
                )
            })
            .collect();
        assert!(
            conditions.contains(&("events:source".to_owned(), "local.bus_sources".to_owned())),
            "every statement is limited to local.bus_sources: {conditions:?}"
        );
        let principals = blocks(st, "principals")
            .next()
            .and_then(|p| attr(&p.body, "identifiers"))
            .map(text)
            .unwrap_or_default();
        if principals.contains("\"*\"") {
            assert!(
                conditions.iter().any(|(v, _)| v == "aws:PrincipalOrgID"),
                "everyone only within the organisation"
            );
        } else {
            assert!(
                principals.contains(":root"),
                "account roots only: {principals}"
            );
        }
    }
}

/// The agent function publishes to its own account's default bus in its
/// own region (EventBridge stamps that account and region), never
/// directly to the master bus.
#[test]
fn the_agent_function_puts_events_only_on_its_own_default_bus() {
    let agent = Module::load("modules/agent");
    // QueryErrorLogs and StreamErrorLogs alike.
    for call in agent.function_calls() {
        each_function_puts_events_only_on_its_own_default_bus(&agent, call);
    }
    let bus = agent.one("data", "aws_cloudwatch_event_bus", "default");
    assert_eq!(attr(&bus.body, "name").and_then(literal), Some("default"));
    assert!(
        attr(&bus.body, "provider").is_none(),
        "the bus of the module's own region"
    );
}

fn each_function_puts_events_only_on_its_own_default_bus(agent: &Module, call: &hcl::Block) {
    // modules/function adds only the function's own logs, queue and key.
    let doc = attr(&call.body, "policy_json")
        .and_then(|e| ref_to(e, "data.aws_iam_policy_document"))
        .expect("policy_json = data.aws_iam_policy_document.X.json");
    let grants = document_grants(agent, &doc);
    let events: Vec<_> = grants
        .iter()
        .filter(|(actions, _)| actions.iter().any(|a| a.starts_with("events:")))
        .collect();
    let own_default_bus = [
        "[data.aws_cloudwatch_event_bus.default.arn]",
        "[\"arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/default\"]",
    ];
    assert!(
        !events.is_empty(),
        "the agent function cannot publish: {grants:?}"
    );
    for (actions, resources) in &events {
        assert_eq!(actions, &["events:PutEvents"], "{resources}");
        assert!(
            own_default_bus.contains(&resources.as_str()),
            "the agent function may put events only on its own default bus, not on {resources}"
        );
    }
}

/// `MASTER_EVENT_BUS_ARN` is no longer read by query-error-logs: the
/// function is not told the master bus at all.
#[test]
fn the_agent_function_is_not_told_the_master_bus() {
    let agent = Module::load("modules/agent");
    for function in agent.function_calls() {
        function_is_not_told_the_master_bus(&agent, function);
    }
}

fn function_is_not_told_the_master_bus(agent: &Module, function: &hcl::Block) {
    let env = attr(&function.body, "environment").expect("environment = {...}");
    let keys = keys_of(&resolve(env, &agent.locals()));
    assert!(keys.contains(&"AGENT_ACCOUNT_ID".to_owned()), "{keys:?}");
    assert!(
        !keys.contains(&"MASTER_EVENT_BUS_ARN".to_owned()),
        "MASTER_EVENT_BUS_ARN is still in the environment: {keys:?}"
    );
    let body = hcl::format::to_string(function).expect("format");
    assert!(
        !body.contains("master_event_bus_arn"),
        "the function still refers to the master bus"
    );
}
