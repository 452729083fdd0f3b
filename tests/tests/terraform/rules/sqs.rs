//! Rule `sqs`.

use super::*;

/// An event target whose dead-letter queue is encrypted and lets EventBridge
/// send for this rule only.
const TARGET_WITH_QUEUE: &str = r#"
resource "aws_sqs_queue" "dlq" {
  name              = "dlq"
  kms_master_key_id = "alias/aws/sqs"
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
fn queues_are_encrypted_and_event_dead_letter_queues_admit_eventbridge() {
    assert_clean(&[("m/main.tf", TARGET_WITH_QUEUE)]);

    let unencrypted = TARGET_WITH_QUEUE.replace("  kms_master_key_id = \"alias/aws/sqs\"\n", "");
    let vs = run(&[("m/main.tf", &unencrypted)]);
    assert_reports(&vs, "sqs", "aws_sqs_queue.dlq", "not encrypted");

    // Without the aws:SourceArn condition, or without the queue policy.
    let open = TARGET_WITH_QUEUE.replace(
        "variable = \"aws:SourceArn\"",
        "variable = \"aws:SourceAccount\"",
    );
    let vs = run(&[("m/main.tf", &open)]);
    assert_reports(&vs, "sqs", "aws_cloudwatch_event_target.t", "aws:SourceArn");
    let start = TARGET_WITH_QUEUE
        .find("resource \"aws_sqs_queue_policy\"")
        .expect("policy");
    let end = start + TARGET_WITH_QUEUE[start..].find("}\n").expect("end") + 2;
    let no_policy = format!(
        "{}{}",
        &TARGET_WITH_QUEUE[..start],
        &TARGET_WITH_QUEUE[end..]
    );
    let vs = run(&[("m/main.tf", &no_policy)]);
    assert_reports(
        &vs,
        "sqs",
        "aws_cloudwatch_event_target.t",
        "no queue policy",
    );
}
