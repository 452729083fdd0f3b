//! The in-memory tests: each rule on a broken module, then on the fixed one.
//! The helpers and the valid Lambda fixture are here; the tests, by rule,
//! in the submodules.

#![allow(dead_code)]

use e2e_tests::terraform_check::{check, Config, Tree, Violation};
use std::collections::{BTreeMap, BTreeSet};

mod api_gateway;
mod event_bus_policy;
mod event_target;
mod iam;
mod lambda;
mod lambda_env;
mod moved;
mod parse;
mod reference;
mod scheduler;
mod secrets;
mod sqs;
mod variable;

pub fn config() -> Config {
    let mut binaries = BTreeMap::new();
    binaries.insert(
        "worker".to_owned(),
        BTreeSet::from(["TABLE_NAME".to_owned(), "RETENTION_DAYS".to_owned()]),
    );
    binaries.insert("api".to_owned(), BTreeSet::from(["TABLE_NAME".to_owned()]));
    Config {
        binaries: Some(binaries),
        allowed: Vec::new(),
    }
}

pub fn run(files: &[(&str, &str)]) -> Vec<Violation> {
    run_with(files, &config())
}

pub fn run_with(files: &[(&str, &str)], config: &Config) -> Vec<Violation> {
    check(&Tree::from_files(files), config).violations
}

pub fn of_rule<'a>(vs: &'a [Violation], rule: &str) -> Vec<&'a Violation> {
    vs.iter().filter(|v| v.rule == rule).collect()
}

pub fn show(vs: &[Violation]) -> String {
    vs.iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[track_caller]
pub fn assert_clean(files: &[(&str, &str)]) {
    let vs = run(files);
    assert!(vs.is_empty(), "expected no violation, got:\n{}", show(&vs));
}

/// Asserts that `rule` reports a violation at `address` whose message
/// contains `needle`.
#[track_caller]
pub fn assert_reports(vs: &[Violation], rule: &str, address: &str, needle: &str) {
    assert!(
        vs.iter()
            .any(|v| v.rule == rule && v.address == address && v.message.contains(needle)),
        "expected a {rule} violation at {address} containing {needle:?}, got:\n{}",
        show(vs)
    );
}

/// A complete, valid Lambda function (every rule holds).
pub const LAMBDA: &str = r#"
variable "worker_zip" {
  description = "Package of the worker."
  type        = string
}

variable "name" {
  description = "Prefix."
  type        = string
  default     = "demo"
}

locals {
  function_name = "${var.name}-worker"
}

resource "aws_sqs_queue" "dlq" {
  sqs_managed_sse_enabled = true
  name = "${var.name}-dlq"
}

resource "aws_iam_role" "worker" {
  name               = local.function_name
  assume_role_policy = "{}"
}

resource "aws_cloudwatch_log_group" "worker" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = 30
}

resource "aws_lambda_function" "worker" {
  function_name = local.function_name
  role          = aws_iam_role.worker.arn
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  filename      = var.worker_zip

  environment {
    variables = {
      TABLE_NAME     = "table"
      RETENTION_DAYS = "30"
    }
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dlq.arn
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.worker.name
  }
}
"#;

pub fn lambda(replace: &[(&str, &str)]) -> String {
    let mut s = LAMBDA.to_owned();
    for (from, to) in replace {
        assert!(s.contains(from), "fixture has no {from:?}");
        s = s.replacen(from, to, 1);
    }
    s
}
