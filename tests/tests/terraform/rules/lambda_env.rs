//! Rule `lambda-env`.

use super::*;
#[allow(unused_imports)]
use e2e_tests::terraform_check::{Allowed, Config, Violation};
#[allow(unused_imports)]
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn lambda_environment_is_exactly_what_its_binary_reads() {
    let missing_and_extra = lambda(&[(
        "      RETENTION_DAYS = \"30\"\n",
        "      DEBUG          = \"1\"\n",
    )]);
    let vs = run(&[("m/main.tf", &missing_and_extra)]);
    assert_reports(
        &vs,
        "lambda-env",
        "aws_lambda_function.worker",
        "missing RETENTION_DAYS",
    );
    assert_reports(
        &vs,
        "lambda-env",
        "aws_lambda_function.worker",
        "extra DEBUG",
    );

    // An optional variable left out is reported too (exact equality).
    let optional_left_out = lambda(&[("      RETENTION_DAYS = \"30\"\n", "")]);
    let vs = run(&[("m/main.tf", &optional_left_out)]);
    assert_reports(
        &vs,
        "lambda-env",
        "aws_lambda_function.worker",
        "missing RETENTION_DAYS",
    );

    // A package that names no binary.
    let unknown = lambda(&[
        ("variable \"worker_zip\"", "variable \"mystery_zip\""),
        (
            "filename      = var.worker_zip",
            "filename      = var.mystery_zip",
        ),
    ]);
    let vs = run(&[("m/main.tf", &unknown)]);
    assert_reports(&vs, "lambda-env", "aws_lambda_function.worker", "mystery");

    let mut config = config();
    config.binaries.as_mut().expect("binaries").insert(
        "worker".to_owned(),
        BTreeSet::from(["TABLE_NAME".to_owned(), "DEBUG".to_owned()]),
    );
    let vs = run_with(&[("m/main.tf", &missing_and_extra)], &config);
    assert!(vs.is_empty(), "{}", show(&vs));
    assert_clean(&[("m/main.tf", LAMBDA)]);
}
