//! Rule `lambda`.

use super::*;
#[allow(unused_imports)]
use e2e_tests::terraform_check::{Allowed, Config, Violation};
#[allow(unused_imports)]
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn lambda_runtime_and_handler() {
    let broken = lambda(&[
        (r#""provided.al2023""#, r#""provided.al2""#),
        (
            r#"handler       = "bootstrap""#,
            r#"handler       = "main""#,
        ),
    ]);
    let vs = run(&[("m/main.tf", &broken)]);
    assert_reports(
        &vs,
        "lambda",
        "aws_lambda_function.worker",
        "provided.al2023",
    );
    assert_reports(&vs, "lambda", "aws_lambda_function.worker", "bootstrap");
    assert_eq!(vs.len(), 2, "{}", show(&vs));
    assert_clean(&[("m/main.tf", LAMBDA)]);
}

#[test]
fn lambda_log_group_name_and_retention() {
    // The group through logging_config has another name.
    let wrong_name = lambda(&[(
        r#""/aws/lambda/${local.function_name}""#,
        r#""/aws/lambda/${var.name}-other""#,
    )]);
    let vs = run(&[("m/main.tf", &wrong_name)]);
    assert_reports(
        &vs,
        "lambda",
        "aws_lambda_function.worker",
        "/aws/lambda/${var.name}-other",
    );

    // No retention.
    let no_retention = lambda(&[("  retention_in_days = 30\n", "")]);
    let vs = run(&[("m/main.tf", &no_retention)]);
    assert_reports(
        &vs,
        "lambda",
        "aws_lambda_function.worker",
        "retention_in_days",
    );

    // No logging_config and no group of that name.
    let none = lambda(&[
        (
            "  logging_config {\n    log_format = \"Text\"\n    log_group  = aws_cloudwatch_log_group.worker.name\n  }\n",
            "",
        ),
        (
            r#""/aws/lambda/${local.function_name}""#,
            r#""/aws/lambda/${var.name}-other""#,
        ),
    ]);
    let vs = run(&[("m/main.tf", &none)]);
    assert_reports(
        &vs,
        "lambda",
        "aws_lambda_function.worker",
        "no aws_cloudwatch_log_group named /aws/lambda/${var.name}-worker",
    );

    // Found by depends_on, and by its name alone.
    let by_depends_on = lambda(&[(
        "  logging_config {\n    log_format = \"Text\"\n    log_group  = aws_cloudwatch_log_group.worker.name\n  }\n",
        "  depends_on = [aws_cloudwatch_log_group.worker]\n",
    )]);
    assert_clean(&[("m/main.tf", &by_depends_on)]);
    let by_name = lambda(&[(
        "  logging_config {\n    log_format = \"Text\"\n    log_group  = aws_cloudwatch_log_group.worker.name\n  }\n",
        "",
    )]);
    assert_clean(&[("m/main.tf", &by_name)]);
}

#[test]
fn lambda_log_groups_of_for_each_functions_are_matched_per_instance() {
    let module = |log_group_name: &str| {
        format!(
            r#"
variable "api_zip" {{
  description = "x"
  type        = string
}}

locals {{
  names  = {{ a = "svc-a", b = "svc-b" }}
  routes = {{ a = {{ method = "GET" }}, b = {{ method = "PUT" }} }}
}}

resource "aws_sqs_queue" "dlq" {{
  sqs_managed_sse_enabled = true
  for_each = local.names
  name     = "${{each.value}}-dlq"
}}

resource "aws_cloudwatch_log_group" "fn" {{
  for_each          = local.names
  name              = {log_group_name}
  retention_in_days = 7
}}

resource "aws_lambda_function" "api" {{
  for_each      = local.routes
  function_name = local.names[each.key]
  role          = "arn:aws:iam::111122223333:role/r"
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  filename      = var.api_zip

  environment {{
    variables = {{
      TABLE_NAME = each.value.method
    }}
  }}

  dead_letter_config {{
    target_arn = aws_sqs_queue.dlq[each.key].arn
  }}

  logging_config {{
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.fn[each.key].name
  }}
}}
"#
        )
    };
    let vs = run(&[("m/main.tf", &module(r#""/aws/lambda/${each.key}""#))]);
    assert_reports(
        &vs,
        "lambda",
        "aws_lambda_function.api[\"a\"]",
        "/aws/lambda/a",
    );
    assert_reports(
        &vs,
        "lambda",
        "aws_lambda_function.api[\"b\"]",
        "/aws/lambda/b",
    );
    assert_clean(&[("m/main.tf", &module(r#""/aws/lambda/${each.value}""#))]);
}

#[test]
fn lambda_needs_a_dead_letter_queue_or_an_on_failure_destination() {
    let no_dlq = lambda(&[(
        "  dead_letter_config {\n    target_arn = aws_sqs_queue.dlq.arn\n  }\n",
        "",
    )]);
    let vs = run(&[("m/main.tf", &no_dlq)]);
    assert_reports(
        &vs,
        "lambda",
        "aws_lambda_function.worker",
        "dead_letter_config",
    );

    // An event invoke config without on_failure does not count.
    let without_on_failure = format!(
        "{no_dlq}\nresource \"aws_lambda_function_event_invoke_config\" \"worker\" {{\n  function_name          = aws_lambda_function.worker.function_name\n  maximum_retry_attempts = 2\n}}\n"
    );
    let vs = run(&[("m/main.tf", &without_on_failure)]);
    assert_reports(&vs, "lambda", "aws_lambda_function.worker", "on_failure");

    let with_on_failure = format!(
        "{no_dlq}\nresource \"aws_lambda_function_event_invoke_config\" \"worker\" {{\n  function_name = aws_lambda_function.worker.function_name\n\n  destination_config {{\n    on_failure {{\n      destination = aws_sqs_queue.dlq.arn\n    }}\n  }}\n}}\n"
    );
    assert_clean(&[("m/main.tf", &with_on_failure)]);
    assert_clean(&[("m/main.tf", LAMBDA)]);
}
