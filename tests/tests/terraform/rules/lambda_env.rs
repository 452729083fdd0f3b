//! Rule `lambda-env`.

use super::*;
#[allow(unused_imports)]
use e2e_tests::terraform_check::{Allowed, Config, Violation};
#[allow(unused_imports)]
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn lambda_environment_is_exactly_what_its_binary_reads() {
    let missing_and_extra = lambda(&[(
        "      RETENTION_DAYS = \"30\"\n",
        "      DEBUG          = \"1\"\n",
    )]);
    let vs = run(&[("m/main.tf", &missing_and_extra)]);
    assert_reports(
        &vs,
        "lambda-env",
        "aws_lambda_function.worker",
        "missing RETENTION_DAYS",
    );
    assert_reports(
        &vs,
        "lambda-env",
        "aws_lambda_function.worker",
        "extra DEBUG",
    );

    // An optional variable left out is reported too (exact equality).
    let optional_left_out = lambda(&[("      RETENTION_DAYS = \"30\"\n", "")]);
    let vs = run(&[("m/main.tf", &optional_left_out)]);
    assert_reports(
        &vs,
        "lambda-env",
        "aws_lambda_function.worker",
        "missing RETENTION_DAYS",
    );

    // A package that names no binary.
    let unknown = lambda(&[
        ("variable \"worker_zip\"", "variable \"mystery_zip\""),
        (
            "filename      = var.worker_zip",
            "filename      = var.mystery_zip",
        ),
    ]);
    let vs = run(&[("m/main.tf", &unknown)]);
    assert_reports(&vs, "lambda-env", "aws_lambda_function.worker", "mystery");

    let mut config = config();
    config.binaries.as_mut().expect("binaries").insert(
        "worker".to_owned(),
        BTreeSet::from(["TABLE_NAME".to_owned(), "DEBUG".to_owned()]),
    );
    let vs = run_with(&[("m/main.tf", &missing_and_extra)], &config);
    assert!(vs.is_empty(), "{}", show(&vs));
    assert_clean(&[("m/main.tf", LAMBDA)]);
}

/// A function module (its package and environment are variables) called with
/// `for_each`: the environment and package of each instance are checked at
/// the call.
const FUNCTION_MODULE: &str = r#"
variable "function_name" {
  description = "x"
  type        = string
}

variable "zip" {
  description = "x"
  type        = string
}

variable "environment" {
  description = "x"
  type        = map(string)
}

resource "aws_sqs_queue" "dlq" {
  sqs_managed_sse_enabled = true
  name = "${var.function_name}-dlq"
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = 30
}

resource "aws_lambda_function" "this" {
  function_name = var.function_name
  role          = "arn:aws:iam::111122223333:role/x"
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  filename      = var.zip

  environment {
    variables = var.environment
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dlq.arn
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }
}
"#;

const CALLER: &str = r#"
variable "worker_zip" {
  description = "x"
  type        = string
}

variable "api_zip" {
  description = "x"
  type        = string
}

locals {
  api_environment = { TABLE_NAME = "t" }

  functions = {
    worker = {
      zip         = var.worker_zip
      environment = { TABLE_NAME = "t", RETENTION_DAYS = "30" }
    }
    api = {
      zip         = var.api_zip
      environment = local.api_environment
    }
  }
}

module "function" {
  source   = "../function"
  for_each = local.functions

  function_name = each.key
  zip           = each.value.zip
  environment   = each.value.environment
}
"#;

#[test]
fn lambda_environment_is_checked_through_module_calls() {
    let files = |caller: &str| -> Vec<Violation> {
        run(&[
            ("function/main.tf", FUNCTION_MODULE),
            ("root/main.tf", caller),
        ])
    };
    let vs = files(CALLER);
    assert!(vs.is_empty(), "{}", show(&vs));

    let missing = CALLER.replace(", RETENTION_DAYS = \"30\"", "");
    let vs = files(&missing);
    assert_reports(
        &vs,
        "lambda-env",
        "module.function[\"worker\"]",
        "missing RETENTION_DAYS",
    );
    assert_eq!(of_rule(&vs, "lambda-env").len(), 1, "{}", show(&vs));

    let extra = CALLER.replace(
        "{ TABLE_NAME = \"t\" }",
        "{ TABLE_NAME = \"t\", DEBUG = \"1\" }",
    );
    let vs = files(&extra);
    assert_reports(&vs, "lambda-env", "module.function[\"api\"]", "extra DEBUG");

    let unknown = CALLER.replace("zip         = var.api_zip", "zip         = \"api.zip\"");
    let vs = files(&unknown);
    assert_reports(
        &vs,
        "lambda-env",
        "module.function[\"api\"]",
        "cannot tell which binary",
    );
}
