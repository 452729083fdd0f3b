//! The wiring the modules must keep, read from the real files: a first
//! `terraform apply` on a new account (no reserved concurrency by default,
//! the API Gateway logging role, no CORS preflight that a browser cannot
//! pass), and agents in any region (their envelopes go through their own
//! regional default bus, then a rule to the master bus).

use super::terraform_root;
use e2e_tests::terraform_check::model::{
    attr, blocks, label, literal, literals, object_get, object_key, text,
};
use hcl::expr::{Expression, TraversalOperator};
use hcl::{Block, Body, Structure};
use std::collections::{BTreeMap, BTreeSet};

/// The top-level blocks of one module folder (all its `.tf` files).
struct Module {
    dir: String,
    blocks: Vec<Block>,
    /// The files' text, concatenated.
    text: String,
}

impl Module {
    fn load(dir: &str) -> Module {
        let path = terraform_root().join(dir);
        let mut files: Vec<_> = std::fs::read_dir(&path)
            .unwrap_or_else(|e| panic!("terraform/{dir}: {e}"))
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "tf"))
            .collect();
        files.sort();
        let mut module = Module {
            dir: dir.to_owned(),
            blocks: Vec::new(),
            text: String::new(),
        };
        for f in files {
            let src = std::fs::read_to_string(&f).expect("read");
            let body: Body = hcl::parse(&src).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            module
                .blocks
                .extend(body.into_iter().filter_map(|s| match s {
                    Structure::Block(b) => Some(b),
                    Structure::Attribute(_) => None,
                }));
            module.text.push_str(&src);
        }
        assert!(!module.blocks.is_empty(), "terraform/{dir} holds no block");
        module
    }

    /// Blocks `kind "t" ...` (`resource`/`data` of type `t`, or
    /// `variable`/`module` named `t`).
    fn all(&self, kind: &str, t: &str) -> std::vec::IntoIter<&Block> {
        self.blocks
            .iter()
            .filter(|b| b.identifier.as_str() == kind && label(b, 0) == t)
            .collect::<Vec<_>>()
            .into_iter()
    }

    fn one(&self, kind: &str, t: &str, name: &str) -> &Block {
        self.all(kind, t)
            .find(|b| label(b, 1) == name)
            .unwrap_or_else(|| panic!("terraform/{}: no {kind} {t}.{name}", self.dir))
    }

    fn variable(&self, name: &str) -> &Block {
        self.all("variable", name)
            .next()
            .unwrap_or_else(|| panic!("terraform/{}: no variable {name}", self.dir))
    }

    /// The Lambda functions: (address, block, the argument that reserves
    /// concurrency) of every `aws_lambda_function` and of every call of
    /// modules/function.
    fn functions(&self) -> Vec<(String, &Block, &'static str)> {
        let resources = self.all("resource", "aws_lambda_function").map(|f| {
            let address = format!("aws_lambda_function.{}", label(f, 1));
            (address, f, "reserved_concurrent_executions")
        });
        let calls = self
            .blocks
            .iter()
            .filter(|b| b.identifier.as_str() == "module" && is_function_module(b))
            .map(|b| (format!("module.{}", label(b, 0)), b, "reserved_concurrency"));
        resources.chain(calls).collect()
    }

    /// The one call of modules/function.
    fn function_call(&self) -> &Block {
        let calls: Vec<_> = self
            .blocks
            .iter()
            .filter(|b| b.identifier.as_str() == "module" && is_function_module(b))
            .collect();
        assert_eq!(
            calls.len(),
            1,
            "terraform/{}: one call of modules/function",
            self.dir
        );
        calls[0]
    }

    fn locals(&self) -> BTreeMap<String, Expression> {
        self.blocks
            .iter()
            .filter(|b| b.identifier.as_str() == "locals")
            .flat_map(|b| b.body.attributes())
            .map(|a| (a.key.to_string(), a.expr.clone()))
            .collect()
    }
}

fn is_function_module(call: &Block) -> bool {
    attr(&call.body, "source").and_then(literal) == Some("../function")
}

/// `X` of `root.X` (exactly one attribute after the root).
fn root_attr<'a>(e: &'a Expression, root: &str) -> Option<&'a str> {
    match e {
        Expression::Traversal(tr) => match (&tr.expr, tr.operators.as_slice()) {
            (Expression::Variable(v), [TraversalOperator::GetAttr(a)]) if v.as_str() == root => {
                Some(a.as_str())
            }
            _ => None,
        },
        Expression::Parenthesis(inner) => root_attr(inner, root),
        _ => None,
    }
}

/// `N` of a reference `prefix.N...` (`aws_iam_role.forward.arn`,
/// `aws_cloudwatch_event_rule.forward[0].name`,
/// `data.aws_iam_policy_document.forward.json`).
fn ref_to(e: &Expression, prefix: &str) -> Option<String> {
    let t = text(e);
    let rest = t.strip_prefix(prefix)?.strip_prefix('.')?;
    let end = rest.find(['.', '[']).unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

/// `local.X` replaced by its value, recursively.
fn resolve(e: &Expression, locals: &BTreeMap<String, Expression>) -> Expression {
    match root_attr(e, "local").and_then(|l| locals.get(l)) {
        Some(v) => resolve(v, locals),
        None => e.clone(),
    }
}

/// Every object literal inside `e`, looking through locals, function
/// calls (`jsonencode`, `concat`), conditionals and `for` expressions.
fn objects(e: &Expression, locals: &BTreeMap<String, Expression>, out: &mut Vec<Expression>) {
    match e {
        Expression::Traversal(_) => {
            if let Some(v) = root_attr(e, "local").and_then(|l| locals.get(l)) {
                objects(v, locals, out);
            }
        }
        Expression::Object(obj) => {
            out.push(e.clone());
            obj.iter().for_each(|(_, v)| objects(v, locals, out));
        }
        Expression::Array(items) => items.iter().for_each(|i| objects(i, locals, out)),
        Expression::FuncCall(f) => f.args.iter().for_each(|a| objects(a, locals, out)),
        Expression::Parenthesis(inner) => objects(inner, locals, out),
        Expression::Conditional(c) => {
            objects(&c.true_expr, locals, out);
            objects(&c.false_expr, locals, out);
        }
        Expression::ForExpr(f) => {
            objects(&f.collection_expr, locals, out);
            objects(&f.value_expr, locals, out);
        }
        _ => {}
    }
}

fn keys_of(e: &Expression) -> Vec<String> {
    match e {
        Expression::Object(obj) => obj.iter().filter_map(|(k, _)| object_key(k)).collect(),
        _ => Vec::new(),
    }
}

/// The statements of an `aws_iam_policy_document` (static ones and the
/// `content` of `dynamic "statement"` blocks).
fn statements(doc: &Block) -> Vec<&Body> {
    blocks(&doc.body, "statement")
        .map(|b| &b.body)
        .chain(
            blocks(&doc.body, "dynamic")
                .filter(|d| label(d, 0) == "statement")
                .flat_map(|d| blocks(&d.body, "content"))
                .map(|b| &b.body),
        )
        .collect()
}

/// (actions, resources as text) of every statement of every inline
/// policy of the role `aws_iam_role.<role>`.
fn role_grants(m: &Module, role: &str) -> Vec<(Vec<String>, String)> {
    assert!(
        !m.all("resource", "aws_iam_role_policy_attachment")
            .any(|a| attr(&a.body, "role")
                .and_then(|e| ref_to(e, "aws_iam_role"))
                .as_deref()
                == Some(role)),
        "aws_iam_role.{role} has a managed policy attached: its grants cannot be read here"
    );
    let mut grants = Vec::new();
    for policy in m.all("resource", "aws_iam_role_policy") {
        if attr(&policy.body, "role")
            .and_then(|e| ref_to(e, "aws_iam_role"))
            .as_deref()
            != Some(role)
        {
            continue;
        }
        let doc = attr(&policy.body, "policy")
            .and_then(|e| ref_to(e, "data.aws_iam_policy_document"))
            .unwrap_or_else(|| {
                panic!(
                    "the policies of aws_iam_role.{role} are aws_iam_policy_document data sources"
                )
            });
        for st in statements(m.one("data", "aws_iam_policy_document", &doc)) {
            let actions = attr(st, "actions").map(literals).unwrap_or_default();
            let resources = attr(st, "resources")
                .map(|e| squash(&text(e)))
                .unwrap_or_default();
            grants.push((actions, resources));
        }
    }
    grants
}

/// (actions, resources as text) of every statement of
/// `data.aws_iam_policy_document.<doc>`.
fn document_grants(m: &Module, doc: &str) -> Vec<(Vec<String>, String)> {
    statements(m.one("data", "aws_iam_policy_document", doc))
        .into_iter()
        .map(|st| {
            let actions = attr(st, "actions").map(literals).unwrap_or_default();
            let resources = attr(st, "resources")
                .map(|e| squash(&text(e)))
                .unwrap_or_default();
            (actions, resources)
        })
        .collect()
}

/// `s` without whitespace (the formatter breaks lists over lines).
fn squash(s: &str) -> String {
    s.split_whitespace().collect()
}

fn contains_number(e: &Expression) -> bool {
    match e {
        Expression::Number(_) => true,
        Expression::Array(items) => items.iter().any(contains_number),
        Expression::Object(obj) => obj.iter().any(|(_, v)| contains_number(v)),
        Expression::FuncCall(f) => f.args.iter().any(contains_number),
        Expression::Parenthesis(inner) => contains_number(inner),
        Expression::Conditional(c) => {
            contains_number(&c.true_expr) || contains_number(&c.false_expr)
        }
        _ => false,
    }
}

// ------------------------------------------------------------------
// A first apply on a new account
// ------------------------------------------------------------------

/// New accounts often have a concurrency quota of 10, and Lambda keeps
/// 100 unreserved: any reservation then fails the apply. Reservations
/// are opt-in: `reserved_concurrent_executions` is unset, or
/// `lookup(var.V, <key>, null)` of a map variable that defaults to `{}`
/// and validates its keys, or `var.V` defaulting to null.
#[test]
fn no_function_reserves_concurrency_by_default() {
    for dir in ["modules/master", "modules/agent", "modules/function"] {
        let m = Module::load(dir);
        let functions = m.functions();
        assert!(!functions.is_empty(), "{dir}: no function");
        for (name, f, argument) in functions {
            let name = format!("{dir}: {name}");
            let Some(e) = attr(&f.body, argument) else {
                continue;
            };
            assert!(
                !contains_number(e),
                "{name} reserves a literal number: {}",
                text(e)
            );
            let (var, via_map) = match e {
                Expression::FuncCall(call)
                    if call.name.name.as_str() == "lookup" && call.args.len() == 3 =>
                {
                    assert!(
                        matches!(call.args[2], Expression::Null),
                        "{name}: a function missing from the map must be unreserved (null): {}",
                        text(e)
                    );
                    (root_attr(&call.args[0], "var"), true)
                }
                other => (root_attr(other, "var"), false),
            };
            let var = var.unwrap_or_else(|| {
                panic!(
                    "{name}: reserved_concurrent_executions must come from a variable: {}",
                    text(e)
                )
            });
            let variable = m.variable(var);
            let default = attr(&variable.body, "default");
            if via_map {
                assert!(
                    matches!(default, Some(Expression::Object(o)) if o.is_empty()),
                    "{dir}: var.{var} must default to {{}} (nothing reserved), not {:?}",
                    default.map(text)
                );
                let validated = blocks(&variable.body, "validation").any(|v| {
                    attr(&v.body, "condition")
                        .is_some_and(|c| text(c).contains(&format!("keys(var.{var})")))
                });
                assert!(
                    validated,
                    "{dir}: var.{var} must validate its keys against the function keys"
                );
            } else {
                assert!(
                    matches!(default, Some(Expression::Null)),
                    "{dir}: var.{var} must default to null (unreserved), not {:?}",
                    default.map(text)
                );
            }
        }
    }
    // The examples reserve nothing by default either.
    for (dir, module) in [("examples/master", "master"), ("examples/agent", "agent")] {
        let m = Module::load(dir);
        let call = m
            .blocks
            .iter()
            .find(|b| b.identifier.as_str() == "module" && label(b, 0) == module)
            .unwrap_or_else(|| panic!("{dir}: no module \"{module}\""));
        if let Some(e) = attr(&call.body, "reserved_concurrency") {
            let var = root_attr(e, "var")
                .unwrap_or_else(|| panic!("{dir}: reserved_concurrency = {}", text(e)));
            let default = attr(&m.variable(var).body, "default");
            assert!(
                matches!(default, Some(Expression::Object(o)) if o.is_empty()),
                "{dir}: var.{var} must default to {{}}, not {:?}",
                default.map(text)
            );
        }
    }
}

/// The stage's access and execution logs need the account's API Gateway
/// CloudWatch Logs role (`aws_api_gateway_account`); without it the stage
/// fails to create. Either the module creates that setting by default
/// (and the stage waits for it), or the stage has no static access log
/// settings.
#[test]
fn api_logging_has_the_account_role_by_default() {
    let m = Module::load("modules/master");
    let stage = m.one("resource", "aws_api_gateway_stage", "this");
    if !blocks(&stage.body, "access_log_settings").any(|_| true) {
        return;
    }
    let account = m
        .all("resource", "aws_api_gateway_account")
        .next()
        .expect("the stage logs, so the module must manage aws_api_gateway_account");
    let by_default = match attr(&account.body, "count") {
        None => true,
        Some(Expression::Conditional(c)) => {
            let var = root_attr(&c.cond_expr, "var").expect("count = var.X ? 1 : 0");
            matches!(
                attr(&m.variable(var).body, "default"),
                Some(Expression::Bool(true))
            ) && text(&c.true_expr) == "1"
        }
        Some(other) => panic!("aws_api_gateway_account count: {}", text(other)),
    };
    assert!(
        by_default,
        "access logging is on, but aws_api_gateway_account is not created by default: a first apply fails with \"CloudWatch Logs role ARN must be set in account settings to enable logging\""
    );
    let waits = attr(&stage.body, "depends_on").is_some_and(|d| {
        text(d).contains(&format!("aws_api_gateway_account.{}", label(account, 1)))
    });
    assert!(waits, "the stage must depend on aws_api_gateway_account");
    let role = attr(&account.body, "cloudwatch_role_arn")
        .and_then(|e| ref_to(e, "aws_iam_role"))
        .expect("cloudwatch_role_arn = aws_iam_role.X.arn");
    let role_block = m.one("resource", "aws_iam_role", &role);
    assert_eq!(
        attr(&role_block.body, "count").map(text),
        attr(&account.body, "count").map(text),
        "the role exists whenever the setting does"
    );
}

/// A browser cannot sign a CORS preflight, so an `AWS_IAM` OPTIONS
/// method always fails it. Either every OPTIONS method is open
/// (`authorization = "NONE"`) with a MOCK integration, or there is none
/// and the module claims no CORS.
#[test]
fn cors_preflight_is_open_and_mocked_or_absent() {
    let m = Module::load("modules/master");
    let options: Vec<_> = m
        .all("resource", "aws_api_gateway_method")
        .filter(|b| attr(&b.body, "http_method").is_some_and(|e| text(e).contains("OPTIONS")))
        .collect();
    if options.is_empty() {
        for claim in [
            "Access-Control-Allow-Origin",
            "Access-Control-Allow-Methods",
        ] {
            assert!(
                !m.text.contains(claim),
                "no OPTIONS method, yet the module sets {claim}"
            );
        }
        let cors_variables: Vec<_> = m
            .blocks
            .iter()
            .filter(|b| b.identifier.as_str() == "variable" && label(b, 0).contains("cors"))
            .map(|b| label(b, 0).to_owned())
            .collect();
        assert!(
            cors_variables.is_empty(),
            "no OPTIONS method, yet CORS variables: {cors_variables:?}"
        );
        return;
    }
    for method in options {
        let name = label(method, 1);
        assert_eq!(
            attr(&method.body, "authorization").and_then(literal),
            Some("NONE"),
            "aws_api_gateway_method.{name}: a preflight cannot be signed"
        );
        let mocked = m.all("resource", "aws_api_gateway_integration").any(|i| {
            attr(&i.body, "http_method")
                .and_then(|e| ref_to(e, "aws_api_gateway_method"))
                .as_deref()
                == Some(name)
                && attr(&i.body, "type").and_then(literal) == Some("MOCK")
        });
        assert!(
            mocked,
            "aws_api_gateway_method.{name} needs a MOCK integration"
        );
    }
}

// ------------------------------------------------------------------
// Agents in any region
// ------------------------------------------------------------------

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
        let grants = role_grants(&agent, &role);
        assert!(
            grants
                .iter()
                .any(|(actions, resources)| actions == &["events:PutEvents"]
                    && resources == "[var.master_event_bus_arn]"),
            "aws_iam_role.{role} must be allowed events:PutEvents on the master bus: {grants:?}"
        );

        let rule_name = attr(body, "rule")
            .and_then(|e| ref_to(e, "aws_cloudwatch_event_rule"))
            .unwrap_or_else(|| panic!("{address}: rule = aws_cloudwatch_event_rule.X.name"));
        let rule = agent.one("resource", "aws_cloudwatch_event_rule", &rule_name);
        assert!(
            attr(&rule.body, "event_bus_name").is_none_or(|e| literal(e) == Some("default")),
            "aws_cloudwatch_event_rule.{rule_name} must be on the default bus, where the agent publishes"
        );
        let pattern = attr(&rule.body, "event_pattern")
            .unwrap_or_else(|| panic!("aws_cloudwatch_event_rule.{rule_name}: no event_pattern"));
        let mut entries = Vec::new();
        objects(pattern, &locals, &mut entries);
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
            let source = resolve(source, &locals);
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
        forwarded.extend(sources);
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

    // The master bus admits every forwarded source, and no other
    // principal than the agent accounts or the organisation.
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
    let call = agent.function_call();
    // modules/function adds only the function's own logs, queue and key.
    let doc = attr(&call.body, "policy_json")
        .and_then(|e| ref_to(e, "data.aws_iam_policy_document"))
        .expect("policy_json = data.aws_iam_policy_document.X.json");
    let grants = document_grants(&agent, &doc);
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
    let bus = agent.one("data", "aws_cloudwatch_event_bus", "default");
    assert_eq!(attr(&bus.body, "name").and_then(literal), Some("default"));
    assert!(
        attr(&bus.body, "provider").is_none(),
        "the bus of the module's own region"
    );
}

/// `MASTER_EVENT_BUS_ARN` is no longer read by query-error-logs: the
/// function is not told the master bus at all.
#[test]
fn the_agent_function_is_not_told_the_master_bus() {
    let agent = Module::load("modules/agent");
    let function = agent.function_call();
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
