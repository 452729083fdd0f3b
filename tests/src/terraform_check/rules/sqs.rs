//! Rule `sqs`: every `aws_sqs_queue` is encrypted (`kms_master_key_id`, or
//! `sqs_managed_sse_enabled = true`), and every queue that is the
//! `dead_letter_config` of an `aws_cloudwatch_event_target` has an
//! `aws_sqs_queue_policy` (its `queue_url` the queue's) whose policy, an
//! `aws_iam_policy_document`, lets the service `events.amazonaws.com`
//! `sqs:SendMessage` under an `aws:SourceArn` condition (EventBridge cannot
//! deliver there otherwise, and the condition keeps other rules out).

use crate::terraform_check::model::*;
use crate::terraform_check::Violation;
use hcl::expr::Expression;
use hcl::Body;

/// `NAME` of `TYPE.NAME...` (with `data.` for data sources).
fn ref_name(e: &Expression, rtype: &str) -> Option<String> {
    let t = text(e);
    let rest = t.strip_prefix(rtype)?.strip_prefix('.')?;
    let end = rest.find(['.', '[']).unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

fn encrypted(body: &Body) -> bool {
    attr(body, "kms_master_key_id").is_some_and(|e| !matches!(e, Expression::Null))
        || matches!(
            attr(body, "sqs_managed_sse_enabled"),
            Some(Expression::Bool(true))
        )
}

/// A statement letting EventBridge send under an `aws:SourceArn` condition.
fn admits_eventbridge(doc: &Body) -> bool {
    blocks(doc, "statement").any(|s| {
        let b = &s.body;
        attr(b, "actions")
            .map(literals)
            .unwrap_or_default()
            .iter()
            .any(|a| a == "sqs:SendMessage")
            && blocks(b, "principals").any(|p| {
                attr(&p.body, "type").and_then(literal) == Some("Service")
                    && attr(&p.body, "identifiers")
                        .map(literals)
                        .unwrap_or_default()
                        .iter()
                        .any(|i| i == "events.amazonaws.com")
            })
            && blocks(b, "condition")
                .any(|c| attr(&c.body, "variable").and_then(literal) == Some("aws:SourceArn"))
    })
}

/// The policy document of the queue policy of `aws_sqs_queue.<queue>`.
fn queue_policy_doc<'m>(m: &'m Module, queue: &str) -> Option<&'m Body> {
    m.resources
        .iter()
        .filter(|((t, _), _)| t == "aws_sqs_queue_policy")
        .filter(|(_, p)| {
            attr(&p.block.body, "queue_url")
                .and_then(|e| ref_name(e, "aws_sqs_queue"))
                .as_deref()
                == Some(queue)
        })
        .filter_map(|(_, p)| attr(&p.block.body, "policy"))
        .filter_map(|e| ref_name(e, "data.aws_iam_policy_document"))
        .find_map(|d| m.data.get(&("aws_iam_policy_document".into(), d)))
        .map(|d| &d.block.body)
}

pub fn check_queues(m: &Module, out: &mut Vec<Violation>) {
    for ((t, n), item) in &m.resources {
        let mut report = |message: String| {
            out.push(Violation {
                rule: "sqs",
                file: item.file.clone(),
                address: resource_address(t, n),
                message,
            })
        };
        match t.as_str() {
            "aws_sqs_queue" if !encrypted(&item.block.body) => {
                report("is not encrypted (kms_master_key_id or sqs_managed_sse_enabled)".into())
            }
            "aws_cloudwatch_event_target" => {
                let queues = blocks(&item.block.body, "dead_letter_config")
                    .filter_map(|d| attr(&d.body, "arn"))
                    .filter_map(|e| ref_name(e, "aws_sqs_queue"));
                for q in queues {
                    if !queue_policy_doc(m, &q).is_some_and(admits_eventbridge) {
                        report(format!(
                            "its dead-letter queue aws_sqs_queue.{q} has no queue policy letting events.amazonaws.com sqs:SendMessage under an aws:SourceArn condition"
                        ));
                    }
                }
            }
            _ => {}
        }
    }
}
