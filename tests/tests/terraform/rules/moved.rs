//! Rule `moved`.

use super::*;

const CHILD: &str = r#"
resource "aws_sqs_queue" "dlq" {
  sqs_managed_sse_enabled = true
  name = "q"
}
"#;

const ROOT: &str = r#"
locals {
  names = { a = "a", b = "b" }
}

module "f" {
  source   = "../child"
  for_each = local.names
}

resource "aws_sqs_queue" "kept" {
  sqs_managed_sse_enabled = true
  name = "kept"
}

moved {
  from = aws_sqs_queue.old["a"]
  to   = module.f["a"].aws_sqs_queue.dlq
}

moved {
  from = aws_sqs_queue.kept[0]
  to   = aws_sqs_queue.kept
}
"#;

#[test]
fn moved_blocks_move_to_declared_addresses_from_gone_ones() {
    assert_clean(&[("child/main.tf", CHILD), ("root/main.tf", ROOT)]);

    // `to` names a resource the called module does not declare.
    let wrong_to = ROOT.replace(
        "module.f[\"a\"].aws_sqs_queue.dlq",
        "module.f[\"a\"].aws_sqs_queue.queue",
    );
    let vs = run(&[("child/main.tf", CHILD), ("root/main.tf", &wrong_to)]);
    assert_reports(
        &vs,
        "moved",
        "moved aws_sqs_queue.old[\"a\"]",
        "aws_sqs_queue.queue: no such resource",
    );

    // `to` names a module call that does not exist.
    let no_call = ROOT.replace("module.f[\"a\"]", "module.g[\"a\"]");
    let vs = run(&[("child/main.tf", CHILD), ("root/main.tf", &no_call)]);
    assert_reports(
        &vs,
        "moved",
        "moved aws_sqs_queue.old[\"a\"]",
        "module.g: no such module call",
    );

    // `from` is still declared: Terraform refuses the move.
    let still_there = ROOT.replace("aws_sqs_queue.old[\"a\"]", "aws_sqs_queue.kept");
    let vs = run(&[("child/main.tf", CHILD), ("root/main.tf", &still_there)]);
    assert_reports(&vs, "moved", "moved aws_sqs_queue.kept", "still declared");
    // Moving a resource between its own instances is not that.
    assert!(!vs
        .iter()
        .any(|v| v.address == "moved aws_sqs_queue.kept[0]"));
}
