//! A first `terraform apply` on a new account.

use super::*;
use e2e_tests::terraform_check::model::{attr, blocks, label, literal, text};
use hcl::expr::Expression;

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
            check_reservation(&m, dir, &name, e);
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

/// `reserved_concurrent_executions` / `reserved_concurrency` = `e`: no literal
/// number; `lookup(var.V, key, null)` of a map variable defaulting to `{}`
/// that validates its keys, or `var.V` defaulting to null.
fn check_reservation(m: &Module, dir: &str, name: &str, e: &Expression) {
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
