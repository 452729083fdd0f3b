//! The Terraform rules route exactly what the routing table
//! (`domain::inbound::ROUTES`) routes: the master bus's rules to
//! HandleMonitoringEvents and UpdateDeployment, the agent's default-bus rule
//! to the agent. A pair routed in one place and not the other would be
//! dropped by EventBridge or skipped by the dispatcher.
#![cfg(feature = "aws")]

use domain::inbound::{routes_to, Target};
use e2e_tests::terraform_check::Tree;
use hcl::eval::{Context, Evaluate};
use hcl::{Body, Expression};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

type Pairs = BTreeSet<(String, String)>;

/// Every `.tf` file of a module as one body (Terraform reads them as one).
fn module(name: &str) -> Body {
    let dir = format!("{}/../terraform/modules/{name}", env!("CARGO_MANIFEST_DIR"));
    let tree = Tree::from_dir(Path::new(&dir)).unwrap();
    let texts: Vec<&str> = tree.modules[""]
        .iter()
        .map(|(_, text)| text.as_str())
        .collect();
    hcl::from_str(&texts.join("\n")).unwrap()
}

fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| a.expr())
}

/// The (source, detail-type) pairs a `jsonencode({...})` pattern admits: the
/// cross product of each `$or` entry's lists (or of the pattern's own).
fn admitted(pattern: &Expression) -> Pairs {
    let Expression::FuncCall(call) = pattern else {
        panic!("event_pattern is not jsonencode(...): {pattern:?}")
    };
    // The agent's rule also names the master account; any value will do.
    let mut ctx = Context::new();
    ctx.declare_var("var", hcl::value!({ master_account_id = "000000000000" }));
    let value: hcl::Value = call.args[0].evaluate(&ctx).unwrap();
    let json: Value = serde_json::to_value(value).unwrap();
    let entries = match json.get("$or") {
        Some(Value::Array(items)) => items.clone(),
        _ => vec![json],
    };
    let strings = |v: &Value, key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} is not a list in {v}"))
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    let mut pairs = Pairs::new();
    for entry in &entries {
        for source in strings(entry, "source") {
            for dt in strings(entry, "detail-type") {
                pairs.insert((source.clone(), dt));
            }
        }
    }
    pairs
}

fn routed(target: Target) -> Pairs {
    routes_to(target)
        .map(|(s, d)| (s.to_owned(), d.to_owned()))
        .collect()
}

#[test]
fn the_master_bus_rules_route_exactly_the_routing_table() {
    let main = module("master");
    let locals = main
        .blocks()
        .find(|b| b.identifier() == "locals" && attr(b.body(), "bus_rules").is_some());
    let Some(Expression::Object(rules)) = locals.and_then(|b| attr(b.body(), "bus_rules")) else {
        panic!("locals.bus_rules is not an object")
    };
    let mut seen = std::collections::HashSet::new();
    for (key, rule) in rules {
        let Expression::Object(rule) = rule else {
            panic!("bus_rules.{key:?} is not an object")
        };
        let field = |k: &str| {
            rule.iter()
                .find(|(key, _)| matches!(key, hcl::ObjectKey::Identifier(i) if i.as_str() == k))
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("bus_rules.{key:?} has no {k}"))
        };
        let Expression::String(function) = field("function") else {
            panic!("bus_rules.{key:?}.function is not a string")
        };
        let target = [Target::HandleMonitoringEvents, Target::UpdateDeployment]
            .into_iter()
            .find(|t| t.name() == function.replace('_', "-"))
            .unwrap_or_else(|| {
                panic!("bus_rules.{key:?} targets {function}, not a master function")
            });
        assert_eq!(
            admitted(field("event_pattern")),
            routed(target),
            "the rule {key:?} to {function}"
        );
        seen.insert(target);
    }
    assert_eq!(seen.len(), 2, "one rule for each master function");
}

#[test]
fn the_agent_default_bus_rule_takes_exactly_the_config_pushes() {
    let main = module("agent");
    let rule = main
        .blocks()
        .find(|b| {
            b.identifier() == "resource"
                && b.labels().len() == 2
                && b.labels()[0].as_str() == "aws_cloudwatch_event_rule"
                && b.labels()[1].as_str() == "config_update"
        })
        .expect("aws_cloudwatch_event_rule.config_update");
    let pattern = attr(rule.body(), "event_pattern").expect("an event_pattern");
    assert_eq!(admitted(pattern), routed(Target::Agent));
}
