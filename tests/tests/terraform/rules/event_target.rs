//! Rule `event-target`.

use super::*;
#[allow(unused_imports)]
use e2e_tests::terraform_check::{Allowed, Config, Violation};
#[allow(unused_imports)]
use std::collections::{BTreeMap, BTreeSet};

const TARGET: &str = r#"
resource "aws_sqs_queue" "dlq" {
  sqs_managed_sse_enabled = true
  name = "dlq"
}

resource "aws_cloudwatch_event_rule" "r" {
  name          = "r"
  event_pattern = jsonencode({ source = ["x"] })
}

data "aws_iam_policy_document" "dlq" {
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.r.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  policy    = data.aws_iam_policy_document.dlq.json
}

resource "aws_cloudwatch_event_target" "t" {
  rule = aws_cloudwatch_event_rule.r.name
  arn  = "arn:aws:sqs:eu-west-1:111122223333:q"

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 3
  }

  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}
"#;

#[test]
fn event_targets_need_retry_policy_and_dead_letter_config() {
    let broken = TARGET
        .replace(
            "  retry_policy {\n    maximum_event_age_in_seconds = 3600\n    maximum_retry_attempts       = 3\n  }\n",
            "",
        )
        .replace("  dead_letter_config {\n    arn = aws_sqs_queue.dlq.arn\n  }\n", "");
    let vs = run(&[("m/main.tf", &broken)]);
    assert_reports(
        &vs,
        "event-target",
        "aws_cloudwatch_event_target.t",
        "retry_policy",
    );
    assert_reports(
        &vs,
        "event-target",
        "aws_cloudwatch_event_target.t",
        "dead_letter_config",
    );
    assert_eq!(vs.len(), 2, "{}", show(&vs));
    assert_clean(&[("m/main.tf", TARGET)]);
}
