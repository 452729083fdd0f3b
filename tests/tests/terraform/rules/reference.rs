//! Rule `reference`.

use super::*;
#[allow(unused_imports)]
use e2e_tests::terraform_check::{Allowed, Config, Violation};
#[allow(unused_imports)]
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn unresolved_variables_locals_resources_and_data_sources_are_reported() {
    let broken = r#"
locals {
  a = var.missing
  b = local.nope
}

resource "aws_sqs_queue" "q" {
  sqs_managed_sse_enabled = true
  name   = "${local.a}-${local.b}"
  policy = aws_iam_policy.absent.arn
  tags   = { k = data.aws_region.absent.name, j = ghost }
}

output "o" {
  description = "x"
  value       = aws_sqs_queue.other[0].arn
}
"#;
    let vs = run(&[("m/main.tf", broken)]);
    assert_reports(&vs, "reference", "local.a", "var.missing");
    assert_reports(&vs, "reference", "local.b", "local.nope");
    assert_reports(&vs, "reference", "aws_sqs_queue.q", "aws_iam_policy.absent");
    assert_reports(
        &vs,
        "reference",
        "aws_sqs_queue.q",
        "data.aws_region.absent",
    );
    assert_reports(&vs, "reference", "aws_sqs_queue.q", "ghost");
    assert_reports(&vs, "reference", "output.o", "aws_sqs_queue.other");
    assert_eq!(of_rule(&vs, "reference").len(), 6, "{}", show(&vs));

    let fixed = r#"
variable "present" {
  description = "x"
  type        = string
}

data "aws_region" "current" {}

locals {
  a = var.present
  b = "b"
}

resource "aws_iam_policy" "p" {
  policy = "{}"
}

resource "aws_sqs_queue" "q" {
  sqs_managed_sse_enabled = true
  count  = 2
  name   = "${local.a}-${local.b}-${count.index}"
  policy = aws_iam_policy.p.arn
  tags   = { k = data.aws_region.current.name }
}

output "o" {
  description = "x"
  value       = aws_sqs_queue.q[0].arn
}

output "all" {
  description = "x"
  value       = aws_sqs_queue.q[*].arn
}
"#;
    assert_clean(&[("m/main.tf", fixed)]);
}

#[test]
fn iterator_symbols_and_meta_arguments_are_not_references() {
    let files = r#"
variable "names" {
  description = "x"
  type        = map(string)
}

locals {
  upper  = { for k, v in var.names : k => upper(v) if v != "" }
  joined = "%{for n in var.names}${n},%{endfor}"
}

data "aws_iam_policy_document" "d" {
  dynamic "statement" {
    for_each = local.upper
    iterator = s

    content {
      sid       = s.key
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.q[s.key].arn]
    }
  }

  dynamic "statement" {
    for_each = local.upper

    content {
      sid       = "${statement.key}2"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.q[statement.key].arn]
    }
  }
}

resource "aws_sqs_queue" "q" {
  sqs_managed_sse_enabled = true
  for_each = local.upper
  name     = "${each.key}-${each.value}-${local.joined}-${path.module}-${terraform.workspace}"
  policy   = data.aws_iam_policy_document.d.json

  lifecycle {
    ignore_changes = [name, tags]
  }
}
"#;
    assert_clean(&[("m/main.tf", files)]);
}

const CALLED: &str = r#"
variable "required_one" {
  description = "x"
  type        = string
}

variable "optional_one" {
  description = "x"
  type        = string
  default     = null
}

resource "aws_sqs_queue" "q" {
  sqs_managed_sse_enabled = true
  name   = var.required_one
  policy = var.optional_one
}

output "queue_arn" {
  description = "x"
  value       = aws_sqs_queue.q.arn
}
"#;

#[test]
fn module_calls_are_checked_against_the_called_module() {
    let broken = r#"
module "child" {
  source = "../child"

  optional_one = "x"
  unknown_arg  = "y"
}

module "elsewhere" {
  source = "../nowhere"
}

output "arn" {
  description = "x"
  value       = module.child.no_such_output
}

output "arn2" {
  description = "x"
  value       = module.absent.queue_arn
}
"#;
    let vs = run(&[("child/main.tf", CALLED), ("root/main.tf", broken)]);
    assert_reports(&vs, "reference", "module.child", "unknown_arg");
    assert_reports(&vs, "reference", "module.child", "required_one");
    assert_reports(&vs, "reference", "module.elsewhere", "../nowhere");
    assert_reports(&vs, "reference", "output.arn", "no_such_output");
    assert_reports(&vs, "reference", "output.arn2", "module.absent");
    assert_eq!(of_rule(&vs, "reference").len(), 5, "{}", show(&vs));

    let fixed = r#"
module "child" {
  source = "../child"

  required_one = "x"
}

module "counted" {
  source = "./../child"
  count  = 1

  required_one = "y"
  optional_one = "z"
}

module "registry" {
  source  = "terraform-aws-modules/sqs/aws"
  version = "4.0.0"

  anything = "goes"
}

output "arn" {
  description = "x"
  value       = [module.child.queue_arn, module.counted[0].queue_arn, module.registry.whatever]
}
"#;
    assert_clean(&[("child/main.tf", CALLED), ("root/main.tf", fixed)]);
}
