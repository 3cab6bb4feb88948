//! HCL (Terraform / OpenTofu) parsing with spans, and a small evaluator for the values talhorn
//! can know without running Terraform: literals, `local.*`, `var.*` defaults (or `*.tfvars`
//! values), string templates of known parts, arithmetic, conditionals with a known condition and
//! a few pure functions. Everything else (`each.*`, `count.index`, resource attributes, data
//! sources) is unknown, and so is every value that depends on it.
//!
//! Values come out as [`Node`]s so that the facts readers already use for YAML apply. A value
//! read from another file (a variable default in `variables.tf`) is located at the expression
//! that uses it: spans always point into the file being read.

use crate::source::Span;
use crate::yaml::{Node, Value};
use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::structure::{Attribute, Block, Body};
use hcl_edit::template::{Element, Template};
use std::collections::HashMap;

/// How deep `local` → `local` → `var` references may chain (cycles end here too).
const MAX_DEPTH: usize = 32;

/// A parse error: where and what.
#[derive(Debug, Clone)]
pub struct HclError {
    pub span: Span,
    pub message: String,
}

/// Parses a `.tf` or `.tfvars` file.
pub fn parse(text: &str) -> Result<Body, HclError> {
    hcl_edit::parser::parse_body(text).map_err(|error| HclError {
        span: Span::at(error.location().offset().min(text.len())),
        message: error.message().to_owned(),
    })
}

pub fn span_of(item: &impl hcl_edit::Span) -> Span {
    item.span()
        .map_or(Span::default(), |r| Span::new(r.start, r.end))
}

/// A block's labels as text (`resource "a" "b"` → `["a", "b"]`).
pub fn labels(block: &Block) -> Vec<&str> {
    block.labels.iter().map(|l| l.as_str()).collect()
}

/// One file of a module: its index among the module's files and its parsed body.
#[derive(Debug, Clone, Copy)]
pub struct FileRef<'a> {
    pub index: usize,
    pub body: &'a Body,
}

/// What a module's `locals` and `variable`s hold, for evaluation.
#[derive(Default)]
pub struct Scope<'a> {
    locals: HashMap<&'a str, (usize, &'a Expression)>,
    /// A variable's value: its default, or the one value every `*.tfvars` gives it; `None` when
    /// it has no default, the tfvars disagree, or a module call passes it.
    vars: HashMap<&'a str, Option<(usize, &'a Expression)>>,
}

impl<'a> Scope<'a> {
    /// The scope of a module's `.tf` files and `.tfvars` files. `passed` names variables a
    /// `module` block elsewhere sets: their value depends on the caller, so they are unknown.
    pub fn new(tf: &[FileRef<'a>], tfvars: &[FileRef<'a>], passed: &[String]) -> Self {
        let mut scope = Scope::default();
        for file in tf {
            for block in file.body.blocks() {
                match (block.ident.as_str(), labels(block).as_slice()) {
                    ("locals", []) => {
                        for attribute in block.body.attributes() {
                            scope
                                .locals
                                .insert(attribute.key.as_str(), (file.index, &attribute.value));
                        }
                    }
                    ("variable", [name]) => {
                        let default = block.body.get_attribute("default");
                        scope
                            .vars
                            .insert(name, default.map(|a| (file.index, &a.value)));
                    }
                    _ => {}
                }
            }
        }
        for (name, value) in &mut scope.vars {
            if passed.iter().any(|p| p == name) {
                *value = None;
                continue;
            }
            let set: Vec<(usize, &Expression)> = tfvars
                .iter()
                .filter_map(|f| f.body.get_attribute(name).map(|a| (f.index, &a.value)))
                .collect();
            if let Some((first, rest)) = set.split_first() {
                let agree = rest.iter().all(|(_, e)| same_value(e, first.1));
                *value = agree.then_some(*first);
            }
        }
        scope
    }

    /// An evaluator for expressions of file `file`.
    pub fn eval(&'a self, file: usize) -> Eval<'a> {
        Eval { scope: self, file }
    }
}

fn same_value(a: &Expression, b: &Expression) -> bool {
    let empty = Scope::default();
    let (a, b) = (empty.eval(0).expr(a), empty.eval(0).expr(b));
    a.zip(b).is_some_and(|(a, b)| a.to_json() == b.to_json())
}

/// Evaluates expressions of one file.
#[derive(Clone, Copy)]
pub struct Eval<'a> {
    scope: &'a Scope<'a>,
    file: usize,
}

impl Eval<'_> {
    /// The value of an expression, `None` when it is not known without running Terraform.
    pub fn expr(&self, expr: &Expression) -> Option<Node> {
        self.at_depth(expr, 0)
    }

    pub fn attr(&self, body: &Body, key: &str) -> Attr {
        match body.get_attribute(key) {
            None => Attr::Absent,
            Some(attribute) => match self.expr(&attribute.value) {
                Some(node) => Attr::Known(node),
                None => Attr::Unknown,
            },
        }
    }

    fn at_depth(&self, expr: &Expression, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let span = span_of(expr);
        let node = |value| Some(Node::new(value, span));
        match expr {
            Expression::Null(_) => node(Value::Null),
            Expression::Bool(b) => node(Value::Bool(*b.value())),
            Expression::Number(n) => {
                let n = n.value();
                match n.as_i64() {
                    Some(i) => node(Value::Int(i)),
                    None => node(Value::Float(n.as_f64()?)),
                }
            }
            Expression::String(s) => node(Value::Str(s.value().clone())),
            Expression::Array(array) => {
                let items: Option<Vec<Node>> =
                    array.iter().map(|e| self.at_depth(e, depth + 1)).collect();
                node(Value::Seq(items?))
            }
            Expression::Object(object) => {
                // One unknown entry makes the object unknown: a patch or schematic without it
                // would look like one that lacks it.
                let entries: Option<Vec<(Node, Node)>> = object
                    .iter()
                    .map(|(key, value)| {
                        let key = self.object_key(key, depth)?;
                        Some((key, self.at_depth(value.expr(), depth + 1)?))
                    })
                    .collect();
                node(Value::Map(entries?))
            }
            Expression::StringTemplate(template) => {
                let text = self.template(template.iter(), depth)?;
                node(Value::Str(text))
            }
            Expression::HeredocTemplate(heredoc) => {
                let text = self.template(heredoc.template.iter(), depth)?;
                node(Value::Str(dedent_heredoc(
                    &text,
                    heredoc.indent().is_some(),
                )))
            }
            Expression::Parenthesis(inner) => self.at_depth(inner.inner(), depth + 1),
            Expression::Traversal(traversal) => self.traversal(traversal, depth, span),
            Expression::Conditional(c) => {
                let condition = self.at_depth(&c.cond_expr, depth + 1);
                match condition.map(|n| n.value) {
                    Some(Value::Bool(true)) => self.at_depth(&c.true_expr, depth + 1),
                    Some(Value::Bool(false)) => self.at_depth(&c.false_expr, depth + 1),
                    _ => {
                        let yes = self.at_depth(&c.true_expr, depth + 1)?;
                        let no = self.at_depth(&c.false_expr, depth + 1)?;
                        (yes.to_json() == no.to_json()).then_some(yes)
                    }
                }
            }
            Expression::BinaryOp(op) => {
                let lhs = self.at_depth(&op.lhs_expr, depth + 1)?;
                let rhs = self.at_depth(&op.rhs_expr, depth + 1)?;
                node(binary(*op.operator.value(), &lhs.value, &rhs.value)?)
            }
            Expression::UnaryOp(op) => {
                let value = self.at_depth(&op.expr, depth + 1)?.value;
                match (op.operator.value(), value) {
                    (UnaryOperator::Neg, Value::Int(i)) => node(Value::Int(i.checked_neg()?)),
                    (UnaryOperator::Not, Value::Bool(b)) => node(Value::Bool(!b)),
                    _ => None,
                }
            }
            Expression::FuncCall(call) => {
                let name = call.name.name.as_str();
                let args: Vec<&Expression> = call.args.iter().collect();
                self.function(name, &args, depth, span)
            }
            Expression::Variable(_) | Expression::ForExpr(_) => None,
        }
    }

    fn object_key(&self, key: &ObjectKey, depth: usize) -> Option<Node> {
        match key {
            ObjectKey::Ident(ident) => Some(Node::new(
                Value::Str(ident.as_str().to_owned()),
                span_of(ident),
            )),
            ObjectKey::Expression(expr) => {
                let node = self.at_depth(expr, depth + 1)?;
                let text = node.scalar_text()?;
                Some(Node::new(Value::Str(text), node.span))
            }
        }
    }

    fn template<'t>(
        &self,
        elements: impl Iterator<Item = &'t Element>,
        depth: usize,
    ) -> Option<String> {
        let mut text = String::new();
        for element in elements {
            match element {
                Element::Literal(literal) => text.push_str(literal.value()),
                Element::Interpolation(interpolation) => {
                    let value = self.at_depth(&interpolation.expr, depth + 1)?;
                    text.push_str(&value.scalar_text()?);
                }
                Element::Directive(_) => return None,
            }
        }
        Some(text)
    }

    fn traversal(
        &self,
        traversal: &hcl_edit::expr::Traversal,
        depth: usize,
        span: Span,
    ) -> Option<Node> {
        let Expression::Variable(root) = &traversal.expr else {
            return None;
        };
        let mut operators = traversal.operators.iter().map(|o| o.value());
        let name = match operators.next()? {
            TraversalOperator::GetAttr(name) => name.as_str(),
            _ => return None,
        };
        let mut value = match root.as_str() {
            "local" => {
                let (file, expr) = *self.scope.locals.get(name)?;
                self.referenced(file, expr, depth, span)?
            }
            "var" => {
                let (file, expr) = (*self.scope.vars.get(name)?)?;
                self.referenced(file, expr, depth, span)?
            }
            "path" if matches!(name, "module" | "root" | "cwd") => {
                Node::new(Value::Str(".".to_owned()), span)
            }
            _ => return None,
        };
        for operator in operators {
            value = match operator {
                TraversalOperator::GetAttr(key) => value.get(key.as_str())?.clone(),
                TraversalOperator::Index(index) => {
                    let index = self.at_depth(index, depth + 1)?;
                    match index.value {
                        Value::Int(i) => value.as_seq()?.get(usize::try_from(i).ok()?)?.clone(),
                        Value::Str(key) => value.get(&key)?.clone(),
                        _ => return None,
                    }
                }
                TraversalOperator::LegacyIndex(i) => value
                    .as_seq()?
                    .get(usize::try_from(*i.value()).ok()?)?
                    .clone(),
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => return None,
            };
        }
        Some(value)
    }

    /// A `local` or `var` value: located where written when in this file, else at the use.
    fn referenced(
        &self,
        file: usize,
        expr: &Expression,
        depth: usize,
        use_at: Span,
    ) -> Option<Node> {
        let eval = Eval {
            scope: self.scope,
            file,
        };
        let mut node = eval.at_depth(expr, depth + 1)?;
        if file != self.file {
            crate::ingest::embedded::set_spans(&mut node, use_at);
        }
        Some(node)
    }

    fn function(&self, name: &str, args: &[&Expression], depth: usize, span: Span) -> Option<Node> {
        let arg = |i: usize| self.at_depth(args.get(i)?, depth + 1);
        let text = |node: Node| node.scalar_text();
        let value = match name {
            "tostring" | "tonumber" | "tobool" | "tolist" | "toset" | "sensitive"
            | "nonsensitive" => return arg(0),
            "lower" => Value::Str(text(arg(0)?)?.to_lowercase()),
            "upper" => Value::Str(text(arg(0)?)?.to_uppercase()),
            "trimspace" => Value::Str(text(arg(0)?)?.trim().to_owned()),
            "join" => {
                let separator = text(arg(0)?)?;
                let items = arg(1)?;
                let parts: Option<Vec<String>> =
                    items.as_seq()?.iter().map(Node::scalar_text).collect();
                Value::Str(parts?.join(&separator))
            }
            "concat" => {
                let mut items = Vec::new();
                for i in 0..args.len() {
                    items.extend(arg(i)?.as_seq()?.iter().cloned());
                }
                Value::Seq(items)
            }
            _ => return None,
        };
        Some(Node::new(value, span))
    }
}

/// The value of an attribute: absent, written but unknown, or known.
#[derive(Debug, Clone)]
pub enum Attr {
    Absent,
    Unknown,
    Known(Node),
}

impl Attr {
    pub fn known(self) -> Option<Node> {
        match self {
            Self::Known(node) => Some(node),
            _ => None,
        }
    }
}

fn binary(operator: BinaryOperator, lhs: &Value, rhs: &Value) -> Option<Value> {
    use BinaryOperator as Op;
    Some(match (operator, lhs, rhs) {
        (Op::Plus, Value::Int(a), Value::Int(b)) => Value::Int(a.checked_add(*b)?),
        (Op::Minus, Value::Int(a), Value::Int(b)) => Value::Int(a.checked_sub(*b)?),
        (Op::Mul, Value::Int(a), Value::Int(b)) => Value::Int(a.checked_mul(*b)?),
        (Op::Div, Value::Int(a), Value::Int(b)) if *b != 0 && a % b == 0 => Value::Int(a / b),
        (Op::Eq, a, b) => Value::Bool(a == b),
        (Op::NotEq, a, b) => Value::Bool(a != b),
        (Op::And, Value::Bool(a), Value::Bool(b)) => Value::Bool(*a && *b),
        (Op::Or, Value::Bool(a), Value::Bool(b)) => Value::Bool(*a || *b),
        _ => return None,
    })
}

/// `<<-EOT` strips the common leading whitespace of the lines.
fn dedent_heredoc(text: &str, strip: bool) -> String {
    if !strip {
        return text.to_owned();
    }
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        out.push_str(
            line.get(indent..)
                .unwrap_or(line.trim_start_matches([' ', '\t'])),
        );
    }
    out
}

/// Whether a heredoc or string is a plain template: no interpolation, no directive.
pub fn is_plain(template: &Template) -> bool {
    template.iter().all(Element::is_literal)
}

/// The attribute's key span (where "this setting" findings point).
pub fn key_span(attribute: &Attribute) -> Span {
    span_of(&attribute.key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str, name: &str) -> Option<Node> {
        let body = parse(text).unwrap_or_else(|e| panic!("{}", e.message));
        let files = [FileRef {
            index: 0,
            body: &body,
        }];
        let scope = Scope::new(&files, &[], &[]);
        let block = body.get_blocks("resource").next()?;
        scope.eval(0).attr(&block.body, name).known()
    }

    #[test]
    fn evaluates_literals_locals_and_variable_defaults() {
        let text = r#"
variable "mem" { default = 4096 }
locals { cpu = "x86-64-v2-AES" }
resource "a" "b" {
  memory = var.mem * 2
  cpu    = local.cpu
  name   = "talos-${local.cpu}"
  unknown = each.value.x
}
"#;
        assert_eq!(
            value(text, "memory").map(|n| n.value),
            Some(Value::Int(8192))
        );
        let cpu = value(text, "cpu").expect("cpu");
        assert_eq!(cpu.as_str(), Some("x86-64-v2-AES"));
        assert_eq!(&text[cpu.span.start..cpu.span.end], "\"x86-64-v2-AES\"");
        assert_eq!(
            value(text, "name").and_then(|n| n.scalar_text()).as_deref(),
            Some("talos-x86-64-v2-AES")
        );
        assert!(value(text, "unknown").is_none());
    }

    #[test]
    fn a_variable_set_by_tfvars_or_a_module_call_is_not_its_default() {
        let tf = parse("variable \"x\" { default = 1 }\nresource \"a\" \"b\" { v = var.x }\n")
            .unwrap_or_else(|e| panic!("{}", e.message));
        let vars = parse("x = 2\n").unwrap_or_else(|e| panic!("{}", e.message));
        let files = [FileRef {
            index: 0,
            body: &tf,
        }];
        let tfvars = [FileRef {
            index: 1,
            body: &vars,
        }];
        let block = tf.get_blocks("resource").next().expect("resource");
        let scope = Scope::new(&files, &tfvars, &[]);
        let v = scope.eval(0).attr(&block.body, "v").known();
        assert_eq!(v.map(|n| n.value), Some(Value::Int(2)));
        let passed = Scope::new(&files, &[], &["x".to_owned()]);
        assert!(matches!(
            passed.eval(0).attr(&block.body, "v"),
            Attr::Unknown
        ));
    }

    #[test]
    fn a_syntax_error_is_located() {
        let error = parse("resource \"a\" {\n  x = \n").expect_err("invalid");
        assert!(error.span.start > 0);
    }
}
