//! Rule `api-gateway`: every `aws_api_gateway_method` sets `authorization`,
//! and no string literal in it is "NONE" (both branches of a conditional
//! count).

use crate::terraform_check::model::*;
use crate::terraform_check::Violation;

pub fn check_api_methods(m: &Module, out: &mut Vec<Violation>) {
    for ((t, n), item) in &m.resources {
        if t != "aws_api_gateway_method" {
            continue;
        }
        let message = match attr(&item.block.body, "authorization") {
            None => "has no authorization",
            Some(e) => {
                let mut lits = Vec::new();
                all_literals(e, &mut lits);
                if !lits.iter().any(|l| l.eq_ignore_ascii_case("NONE")) {
                    continue;
                }
                "authorization can be \"NONE\" (every method must authenticate)"
            }
        };
        out.push(Violation {
            rule: "api-gateway",
            file: item.file.clone(),
            address: resource_address(t, n),
            message: message.into(),
        });
    }
}
