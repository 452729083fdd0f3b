//! Rule `event-bus-policy`.

use super::*;
#[allow(unused_imports)]
use e2e_tests::terraform_check::{Allowed, Config, Violation};
#[allow(unused_imports)]
use std::collections::{BTreeMap, BTreeSet};

const BUS_POLICY: &str = r#"
variable "organization_id" {
  description = "x"
  type        = string
}

resource "aws_cloudwatch_event_bus" "bus" {
  name = "bus"
}

data "aws_iam_policy_document" "bus" {
  statement {
    sid       = "Organization"
    actions   = ["events:PutEvents"]
    resources = [aws_cloudwatch_event_bus.bus.arn]

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalOrgID"
      values   = [var.organization_id]
    }
  }
}

resource "aws_cloudwatch_event_bus_policy" "bus" {
  event_bus_name = aws_cloudwatch_event_bus.bus.name
  policy         = data.aws_iam_policy_document.bus.json
}

resource "aws_cloudwatch_event_bus_policy" "json" {
  event_bus_name = aws_cloudwatch_event_bus.bus.name
  policy = jsonencode({
    Statement = [{
      Sid       = "JsonOrganization"
      Effect    = "Allow"
      Principal = "*"
      Action    = "events:PutEvents"
      Resource  = aws_cloudwatch_event_bus.bus.arn
      Condition = { StringEquals = { "aws:PrincipalOrgID" = var.organization_id } }
    }]
  })
}

resource "aws_cloudwatch_event_permission" "org" {
  principal    = "*"
  statement_id = "Organization"

  condition {
    key   = "aws:PrincipalOrgID"
    type  = "StringEquals"
    value = var.organization_id
  }
}
"#;

#[test]
fn event_bus_policies_need_an_organization_condition_for_everyone() {
    let broken = BUS_POLICY
        .replace(
            "    condition {\n      test     = \"StringEquals\"\n      variable = \"aws:PrincipalOrgID\"\n      values   = [var.organization_id]\n    }\n",
            "",
        )
        .replace(
            "      Condition = { StringEquals = { \"aws:PrincipalOrgID\" = var.organization_id } }\n",
            "",
        )
        .replace(
            "  condition {\n    key   = \"aws:PrincipalOrgID\"\n    type  = \"StringEquals\"\n    value = var.organization_id\n  }\n",
            "",
        )
        .replace(
            "variable \"organization_id\" {\n  description = \"x\"\n  type        = string\n}\n",
            "",
        );
    let vs = run(&[("m/main.tf", &broken)]);
    assert_reports(
        &vs,
        "event-bus-policy",
        "aws_cloudwatch_event_bus_policy.bus",
        "Organization",
    );
    assert_reports(
        &vs,
        "event-bus-policy",
        "aws_cloudwatch_event_bus_policy.json",
        "JsonOrganization",
    );
    assert_reports(
        &vs,
        "event-bus-policy",
        "aws_cloudwatch_event_permission.org",
        "aws:PrincipalOrgID",
    );
    assert_eq!(vs.len(), 3, "{}", show(&vs));

    let opaque = format!(
        "{BUS_POLICY}\nresource \"aws_cloudwatch_event_bus_policy\" \"opaque\" {{\n  event_bus_name = aws_cloudwatch_event_bus.bus.name\n  policy         = var.organization_id\n}}\n"
    );
    let vs = run(&[("m/main.tf", &opaque)]);
    assert_reports(
        &vs,
        "event-bus-policy",
        "aws_cloudwatch_event_bus_policy.opaque",
        "cannot",
    );

    assert_clean(&[("m/main.tf", BUS_POLICY)]);
}
