//! Rule `parse`.

use super::*;
#[allow(unused_imports)]
use e2e_tests::terraform_check::{Allowed, Config, Violation};
#[allow(unused_imports)]
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn parse_errors_are_reported() {
    let vs = run(&[(
        "m/main.tf",
        "resource \"aws_sqs_queue\" \"q\" {\n  name = \n",
    )]);
    assert_eq!(of_rule(&vs, "parse").len(), 1, "{}", show(&vs));
    assert_eq!(vs[0].file, "m/main.tf");

    let vs = run(&[(
        "m/main.tf",
        "resource \"aws_sqs_queue\" \"q\" {\n  name = \"${unclosed\"\n}\n",
    )]);
    assert!(!of_rule(&vs, "parse").is_empty(), "{}", show(&vs));

    assert_clean(&[(
        "m/main.tf",
        "resource \"aws_sqs_queue\" \"q\" {\n  name = \"q\"\n  sqs_managed_sse_enabled = true\n}\n",
    )]);
}
