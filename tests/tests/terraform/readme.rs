//! The READMEs of the modules document exactly their variables and outputs:
//! the Inputs table (terraform-docs layout: name, description, type,
//! default, required) lists every variable of `variables.tf` and no other,
//! with its description, type, default and required-ness; the Outputs table
//! every output of `outputs.tf` with its description. The master README's
//! table of Lambda environments matches what the module passes each package.

use super::terraform_root;
use e2e_tests::terraform_check::model::{attr, literal, object_key, text};
use hcl::expr::Expression;
use hcl::{Block, Body, Structure};
use std::collections::{BTreeMap, BTreeSet};

const MODULES: &[&str] = &["modules/master", "modules/agent", "modules/function"];

fn blocks_of(dir: &str, file: &str) -> Vec<Block> {
    let path = terraform_root().join(dir).join(file);
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let body: Body = hcl::parse(&src).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    body.into_iter()
        .filter_map(|s| match s {
            Structure::Block(b) => Some(b),
            Structure::Attribute(_) => None,
        })
        .collect()
}

fn readme(dir: &str) -> String {
    let path = terraform_root().join(dir).join("README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The rows of the table under `## <section>`: cells, unescaped.
fn table(readme: &str, section: &str) -> Vec<Vec<String>> {
    let heading = format!("## {section}\n");
    let start = readme
        .find(&heading)
        .unwrap_or_else(|| panic!("no {heading:?} section"));
    readme[start + heading.len()..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // header and separator
        .map(|l| {
            let l = l.trim().trim_start_matches('|').trim_end_matches('|');
            let mut cells = Vec::new();
            let mut cell = String::new();
            let mut chars = l.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\\' if chars.peek() == Some(&'|') => cell.push(chars.next().expect("|")),
                    '|' => cells.push(std::mem::take(&mut cell)),
                    c => cell.push(c),
                }
            }
            cells.push(cell);
            cells.into_iter().map(|c| unescape(c.trim())).collect()
        })
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// `name` of `<a name="input_name"></a> [name](#input_name)`.
fn row_name(cell: &str) -> String {
    let start = cell.find('[').map(|i| i + 1).unwrap_or(0);
    let end = cell[start..]
        .find(']')
        .map(|i| start + i)
        .unwrap_or(cell.len());
    cell[start..end].to_owned()
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect()
}

/// A default as terraform-docs writes it in a cell, when it is on one line.
fn rendered_default(e: &Expression) -> Option<String> {
    match e {
        Expression::Null => Some("`null`".into()),
        Expression::Bool(b) => Some(format!("`{b}`")),
        Expression::Number(n) => Some(format!("`{n}`")),
        Expression::String(s) => Some(format!("`{s:?}`")),
        Expression::Array(a) if a.is_empty() => Some("`[]`".into()),
        Expression::Object(o) if o.is_empty() => Some("`{}`".into()),
        _ => None,
    }
}

fn description(b: &Block) -> String {
    attr(&b.body, "description")
        .and_then(literal)
        .unwrap_or_default()
        .to_owned()
}

fn check_inputs(dir: &str, readme: &str, problems: &mut Vec<String>) {
    let variables: BTreeMap<String, Block> = blocks_of(dir, "variables.tf")
        .into_iter()
        .filter(|b| b.identifier.as_str() == "variable")
        .map(|b| (b.labels[0].as_str().to_owned(), b))
        .collect();
    let rows = table(readme, "Inputs");
    let listed: BTreeSet<String> = rows.iter().map(|r| row_name(&r[0])).collect();
    let declared: BTreeSet<String> = variables.keys().cloned().collect();
    for v in declared.difference(&listed) {
        problems.push(format!("{dir}: variable {v} is not in the README's Inputs"));
    }
    for v in listed.difference(&declared) {
        problems.push(format!(
            "{dir}: the README's Inputs list {v}, not a variable"
        ));
    }
    for row in &rows {
        let name = row_name(&row[0]);
        let Some(var) = variables.get(&name) else {
            continue;
        };
        let [_, desc, ty, default, required] = row.as_slice() else {
            problems.push(format!("{dir}: Inputs row {name} has not 5 cells"));
            continue;
        };
        let mut differ = |what: &str, readme: &str, tf: &str| {
            problems.push(format!(
                "{dir}: input {name}: README {what} {readme:?}, variables.tf {tf:?}"
            ))
        };
        if *desc != description(var) {
            differ("description", desc, &description(var));
        }
        let tf_type = attr(&var.body, "type").map(text).unwrap_or_default();
        if !ty.starts_with("<pre>") && squash(ty) != squash(&format!("`{tf_type}`")) {
            differ("type", ty, &tf_type);
        }
        let tf_default = attr(&var.body, "default");
        let tf_required = if tf_default.is_none() { "yes" } else { "no" };
        if required != tf_required {
            differ("required", required, tf_required);
        }
        let expected = match tf_default {
            None => Some("n/a".to_owned()),
            Some(e) => rendered_default(e),
        };
        if let Some(expected) = expected {
            if *default != expected {
                differ("default", default, &expected);
            }
        }
    }
}

fn check_outputs(dir: &str, readme: &str, problems: &mut Vec<String>) {
    let outputs: BTreeMap<String, String> = blocks_of(dir, "outputs.tf")
        .into_iter()
        .filter(|b| b.identifier.as_str() == "output")
        .map(|b| (b.labels[0].as_str().to_owned(), description(&b)))
        .collect();
    let rows: BTreeMap<String, String> = table(readme, "Outputs")
        .into_iter()
        .map(|r| (row_name(&r[0]), r.get(1).cloned().unwrap_or_default()))
        .collect();
    for (name, desc) in &outputs {
        match rows.get(name) {
            None => problems.push(format!(
                "{dir}: output {name} is not in the README's Outputs"
            )),
            Some(d) if d != desc => problems.push(format!(
                "{dir}: output {name}: README description {d:?}, outputs.tf {desc:?}"
            )),
            Some(_) => {}
        }
    }
    for name in rows.keys().filter(|n| !outputs.contains_key(*n)) {
        problems.push(format!(
            "{dir}: the README's Outputs list {name}, not an output"
        ));
    }
}

#[test]
fn module_readmes_list_exactly_their_variables_and_outputs() {
    let mut problems = Vec::new();
    for dir in MODULES {
        let readme = readme(dir);
        check_inputs(dir, &readme, &mut problems);
        check_outputs(dir, &readme, &mut problems);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Package variable -> environment keys, from the master's `local.functions`
/// and `local.notify_function`
/// (an entry's `environment` is a literal map or a local holding one).
fn master_environments() -> BTreeMap<String, BTreeSet<String>> {
    let locals: BTreeMap<String, Expression> = blocks_of("modules/master", "main.tf")
        .into_iter()
        .filter(|b| b.identifier.as_str() == "locals")
        .flat_map(|b| b.body.into_attributes())
        .map(|a| (a.key.to_string(), a.expr))
        .collect();
    let resolve = |e: &Expression| -> Expression {
        let t = text(e);
        match t.strip_prefix("local.").and_then(|l| locals.get(l)) {
            Some(v) => v.clone(),
            None => e.clone(),
        }
    };
    let Some(Expression::Object(functions)) = locals.get("functions") else {
        panic!("modules/master: local.functions is not an object");
    };
    // The notify function, deployed only with its package.
    let notify = match locals.get("notify_function") {
        Some(Expression::Object(o)) => o.clone(),
        Some(other) => panic!("local.notify_function: {}", text(other)),
        None => Default::default(),
    };
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, f) in functions.iter().chain(notify.iter()) {
        let Expression::Object(fields) = f else {
            panic!("{}", text(f))
        };
        let field = |k: &str| {
            fields
                .iter()
                .find(|(key, _)| object_key(key).as_deref() == Some(k))
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("a function without {k}"))
        };
        let zip = text(field("zip")).trim_start_matches("var.").to_owned();
        let Expression::Object(env) = resolve(field("environment")) else {
            panic!("{zip}: environment is not a literal map");
        };
        let keys: BTreeSet<String> = env.iter().filter_map(|(k, _)| object_key(k)).collect();
        let previous = out.insert(zip.clone(), keys.clone());
        assert!(
            previous.is_none_or(|p| p == keys),
            "{zip}: functions of one package with different environments"
        );
    }
    out
}

/// The master README's table `| function | package | environment |`.
#[test]
fn master_readme_environment_table_matches_the_module() {
    let readme = readme("modules/master");
    let header = "| function | package | environment |";
    let start = readme.find(header).expect("the environment table");
    let rows: BTreeMap<String, BTreeSet<String>> = readme[start..]
        .lines()
        .map(str::trim)
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            let zip = cells[1].trim_matches('`').to_owned();
            let env = cells[2]
                .split(',')
                .map(|v| v.trim().trim_matches('`').to_owned())
                .filter(|v| !v.is_empty())
                .collect();
            (zip, env)
        })
        .collect();
    assert_eq!(
        rows,
        master_environments(),
        "README rows vs local.functions and local.notify_function"
    );
}
