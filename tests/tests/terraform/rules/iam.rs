//! Rule `iam`.

use super::*;
#[allow(unused_imports)]
use e2e_tests::terraform_check::{Allowed, Config, Violation};
#[allow(unused_imports)]
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn iam_wildcard_actions_are_reported() {
    let broken = r#"
data "aws_iam_policy_document" "d" {
  statement {
    sid       = "Everything"
    actions   = ["*"]
    resources = ["arn:aws:sqs:eu-west-1:111122223333:q"]
  }

  statement {
    sid       = "AllOfSqs"
    actions   = ["sqs:*"]
    resources = ["arn:aws:sqs:eu-west-1:111122223333:q"]
  }
}

resource "aws_iam_policy" "p" {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "JsonEverything"
      Effect   = "Allow"
      Action   = "*"
      Resource = "arn:aws:sqs:eu-west-1:111122223333:q"
    }]
  })
}

resource "aws_iam_role_policy" "r" {
  role   = "r"
  policy = data.aws_iam_policy_document.d.json
}
"#;
    let vs = run(&[("m/main.tf", broken)]);
    assert_reports(&vs, "iam", "data.aws_iam_policy_document.d", "Everything");
    assert_reports(&vs, "iam", "data.aws_iam_policy_document.d", "sqs:*");
    assert_reports(&vs, "iam", "aws_iam_policy.p", "JsonEverything");
    assert_eq!(vs.len(), 3, "{}", show(&vs));

    let fixed = broken
        .replace(r#"actions   = ["*"]"#, r#"actions   = ["sqs:GetQueueUrl"]"#)
        .replace(
            r#"actions   = ["sqs:*"]"#,
            r#"actions   = ["sqs:SendMessage"]"#,
        )
        .replace(r#"Action   = "*""#, r#"Action   = ["sqs:ReceiveMessage"]"#);
    assert_clean(&[("m/main.tf", &fixed)]);

    // A Deny statement may use wildcards.
    let deny = broken.replace(
        "sid       = \"Everything\"",
        "sid       = \"Everything\"\n    effect    = \"Deny\"",
    );
    let vs = run(&[("m/main.tf", &deny)]);
    assert_eq!(vs.len(), 2, "{}", show(&vs));
}

const WRITE_ON_STAR: &str = r#"
data "aws_iam_policy_document" "d" {
  statement {
    sid       = "ReadAnything"
    actions   = ["logs:DescribeLogGroups", "logs:GetQueryResults", "ssm:GetParameter"]
    resources = ["*"]
  }

  statement {
    sid       = "StopAnything"
    actions   = ["logs:StopQuery"]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = ["x"]

    content {
      sid       = "DynamicWrite"
      actions   = ["sqs:SendMessage"]
      resources = ["*"]
    }
  }
}

resource "aws_kms_key" "k" {
  policy = jsonencode({
    Statement = [
      {
        Sid       = "JsonWrite"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:DescribeKey"]
        Resource  = "*"
      },
    ]
  })
}

resource "aws_iam_role_policy" "r" {
  role   = "r"
  policy = data.aws_iam_policy_document.d.json
}
"#;

#[test]
fn iam_write_actions_on_every_resource_are_reported_unless_allowed() {
    let vs = run(&[("m/main.tf", WRITE_ON_STAR)]);
    assert_reports(
        &vs,
        "iam",
        "data.aws_iam_policy_document.d",
        "logs:StopQuery",
    );
    assert_reports(
        &vs,
        "iam",
        "data.aws_iam_policy_document.d",
        "sqs:SendMessage",
    );
    assert_reports(&vs, "iam", "aws_kms_key.k", "kms:Decrypt");
    // Read actions on "*" are fine.
    assert_eq!(vs.len(), 3, "{}", show(&vs));

    let mut config = config();
    config.allowed = vec![
        Allowed {
            module: "m",
            address: "data.aws_iam_policy_document.d",
            sid: "StopAnything",
            actions: &["logs:StopQuery"],
            reason: "no resource type",
        },
        Allowed {
            module: "m",
            address: "aws_kms_key.k",
            sid: "JsonWrite",
            actions: &["kms:Decrypt"],
            reason: "key policy",
        },
    ];
    let report = check(&Tree::from_files(&[("m/main.tf", WRITE_ON_STAR)]), &config);
    assert_reports(
        &report.violations,
        "iam",
        "data.aws_iam_policy_document.d",
        "sqs:SendMessage",
    );
    assert_eq!(report.violations.len(), 1, "{}", show(&report.violations));
    assert!(report
        .allowed_used
        .contains(&(0, "logs:StopQuery".to_owned())));
    assert!(report.allowed_used.contains(&(1, "kms:Decrypt".to_owned())));

    // An allow-list entry names its module: elsewhere it does not apply.
    let report = check(&Tree::from_files(&[("n/main.tf", WRITE_ON_STAR)]), &config);
    assert_eq!(report.violations.len(), 3, "{}", show(&report.violations));

    let fixed = WRITE_ON_STAR
        .replace(
            "actions   = [\"logs:StopQuery\"]\n    resources = [\"*\"]",
            "actions   = [\"logs:StopQuery\"]\n    resources = [\"arn:aws:logs:eu-west-1:111122223333:log-group:g\"]",
        )
        .replace(
            "actions   = [\"sqs:SendMessage\"]\n      resources = [\"*\"]",
            "actions   = [\"sqs:SendMessage\"]\n      resources = [\"arn:aws:sqs:eu-west-1:111122223333:q\"]",
        )
        .replace("Resource  = \"*\"", "Resource  = \"arn:aws:kms:eu-west-1:111122223333:key/k\"");
    assert_clean(&[("m/main.tf", &fixed)]);
}
