//! Rule `variable`.

use super::*;
#[allow(unused_imports)]
use e2e_tests::terraform_check::{Allowed, Config, Violation};
#[allow(unused_imports)]
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn variables_need_a_type_a_description_and_a_use() {
    let broken = r#"
variable "untyped" {
  description = "x"
}

variable "undescribed" {
  type        = string
  description = ""
}

variable "unused" {
  description = "x"
  type        = string

  validation {
    condition     = length(var.unused) > 0
    error_message = "Its own validation is no use."
  }
}

resource "aws_sqs_queue" "q" {
  sqs_managed_sse_enabled = true
  name   = var.untyped
  policy = var.undescribed
}
"#;
    let vs = run(&[("m/variables.tf", broken)]);
    assert_reports(&vs, "variable", "var.untyped", "type");
    assert_reports(&vs, "variable", "var.undescribed", "description");
    assert_reports(&vs, "variable", "var.unused", "never used");
    assert_eq!(of_rule(&vs, "variable").len(), 3, "{}", show(&vs));

    let fixed = r#"
variable "typed" {
  description = "x"
  type        = string
}

variable "described" {
  type        = list(object({ a = string }))
  description = "A list."
}

resource "aws_sqs_queue" "q" {
  sqs_managed_sse_enabled = true
  name   = var.typed
  policy = jsonencode(var.described)
}
"#;
    assert_clean(&[("m/variables.tf", fixed)]);
}
