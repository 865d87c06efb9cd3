//! The `filters` query parameter of `GET /sources`, in ISC's syntax, for the
//! part the emulator supports:
//!
//! - `name` and `id` with `eq`, `in`, `sw` (starts with) and `co` (contains);
//! - `features` with `ca` (contains all), e.g. `features ca ("PASSWORD")`;
//! - conditions combined with `and`, `or` and `not`, grouped by parentheses,
//!   e.g. `(name eq "A" or name eq "B") and features ca ("PASSWORD")`.
//!
//! As in SailPoint's filter documentation, `not` binds tightest, then `and`,
//! then `or`: `a or b and c` is `a or (b and c)`. Values are double-quoted
//! strings; `\"` and `\\` escape a quote and a backslash. `eq` and `in`
//! compare exactly; `sw` and `co` ignore ASCII case. Keywords and operators
//! are case-insensitive. Anything else (other fields or operators) is a
//! [`FilterError`], which the API answers with 400.

use std::fmt;

use crate::catalog::SourceEntry;

/// The longest `filters` value accepted.
pub const MAX_FILTER_LEN: usize = 8 * 1024;

/// A field that can be filtered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The source's name.
    Name,
    /// The source's id.
    Id,
    /// The source's features.
    Features,
}

/// A comparison and its operand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Equal to.
    Eq(String),
    /// Equal to one of.
    In(Vec<String>),
    /// Starts with (ignoring ASCII case).
    Sw(String),
    /// Contains (ignoring ASCII case).
    Co(String),
    /// Contains all of (for lists such as `features`).
    Ca(Vec<String>),
}

/// One `FIELD OP VALUE` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// What is compared.
    pub field: Field,
    /// How.
    pub op: Op,
}

/// A filter expression.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Filter {
    /// No filter: matches everything.
    #[default]
    All,
    /// One condition.
    Condition(Condition),
    /// Every part must hold (two or more parts).
    And(Vec<Filter>),
    /// At least one part must hold (two or more parts).
    Or(Vec<Filter>),
    /// The part must not hold.
    Not(Box<Filter>),
}

/// Why a filter was refused: the text of the 400 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(pub String);

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
    Comma,
}

fn describe(token: Option<&Token>) -> String {
    match token {
        None => "the end of the filter".into(),
        Some(Token::Word(w)) => format!("'{w}'"),
        Some(Token::Str(s)) => format!("the string \"{s}\""),
        Some(Token::Open) => "'('".into(),
        Some(Token::Close) => "')'".into(),
        Some(Token::Comma) => "','".into(),
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            ',' => tokens.push(Token::Comma),
            '"' => {
                let mut value = String::new();
                loop {
                    match chars.next() {
                        None => {
                            return Err(FilterError(format!(
                                "the string starting at character {at} is not closed"
                            )));
                        }
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, e @ ('"' | '\\'))) => value.push(e),
                            Some((_, e)) => {
                                return Err(FilterError(format!(
                                    "unknown escape '\\{e}' in a string: use \\\" or \\\\"
                                )));
                            }
                            None => {
                                return Err(FilterError(format!(
                                    "the string starting at character {at} is not closed"
                                )));
                            }
                        },
                        Some((_, other)) => value.push(other),
                    }
                }
                tokens.push(Token::Str(value));
            }
            c if c.is_alphanumeric() || c == '.' || c == '_' => {
                let mut word = String::from(c);
                while let Some(&(_, n)) = chars.peek() {
                    if n.is_alphanumeric() || n == '.' || n == '_' {
                        word.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token::Word(word));
            }
            other => {
                return Err(FilterError(format!("unexpected character '{other}' at character {at}")));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: std::vec::IntoIter<Token>,
    peeked: Option<Token>,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        self.peeked.take().or_else(|| self.tokens.next())
    }

    fn peek(&mut self) -> Option<&Token> {
        if self.peeked.is_none() {
            self.peeked = self.tokens.next();
        }
        self.peeked.as_ref()
    }

    fn string(&mut self, op: &str) -> Result<String, FilterError> {
        match self.next() {
            Some(Token::Str(s)) => Ok(s),
            other => Err(FilterError(format!(
                "'{op}' needs a quoted string such as \"value\", not {}",
                describe(other.as_ref())
            ))),
        }
    }

    /// `("a", "b", ...)`; a single bare string is accepted as a list of one.
    fn list(&mut self, op: &str) -> Result<Vec<String>, FilterError> {
        if let Some(Token::Str(_)) = self.peek() {
            return Ok(vec![self.string(op)?]);
        }
        match self.next() {
            Some(Token::Open) => {}
            other => {
                return Err(FilterError(format!(
                    "'{op}' needs a list such as (\"a\", \"b\"), not {}",
                    describe(other.as_ref())
                )));
            }
        }
        let mut values = vec![self.string(op)?];
        loop {
            match self.next() {
                Some(Token::Close) => return Ok(values),
                Some(Token::Comma) => values.push(self.string(op)?),
                other => {
                    return Err(FilterError(format!(
                        "expected ',' or ')' in the list of '{op}', not {}",
                        describe(other.as_ref())
                    )));
                }
            }
        }
    }

    fn condition(&mut self) -> Result<Condition, FilterError> {
        let field = match self.next() {
            Some(Token::Word(w)) => w,
            other => {
                return Err(FilterError(format!(
                    "expected a field (name, id or features), not {}",
                    describe(other.as_ref())
                )));
            }
        };
        let op = match self.next() {
            Some(Token::Word(w)) => w.to_ascii_lowercase(),
            other => {
                return Err(FilterError(format!(
                    "expected an operator after '{field}', not {}",
                    describe(other.as_ref())
                )));
            }
        };
        let field = match field.as_str() {
            "name" => Field::Name,
            "id" => Field::Id,
            "features" => Field::Features,
            other => {
                return Err(FilterError(format!(
                    "filtering on '{other}' is not supported: use name, id or features"
                )));
            }
        };
        let op = match (field, op.as_str()) {
            (Field::Name | Field::Id, "eq") => Op::Eq(self.string("eq")?),
            (Field::Name | Field::Id, "in") => Op::In(self.list("in")?),
            (Field::Name | Field::Id, "sw") => Op::Sw(self.string("sw")?),
            (Field::Name | Field::Id, "co") => Op::Co(self.string("co")?),
            (Field::Features, "ca") => Op::Ca(self.list("ca")?),
            (Field::Name | Field::Id, other) => {
                return Err(FilterError(format!(
                    "the operator '{other}' is not supported for this field: use eq, in, sw or co"
                )));
            }
            (Field::Features, other) => {
                return Err(FilterError(format!(
                    "the operator '{other}' is not supported for features: use ca"
                )));
            }
        };
        Ok(Condition { field, op })
    }
}

/// The deepest nesting of parentheses and `not` accepted (the parser recurses).
const MAX_DEPTH: usize = 64;

impl Parser {
    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word)) {
            self.next();
            return true;
        }
        false
    }

    /// `or_expr := and_expr ("or" and_expr)*`
    fn or_expr(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let mut parts = vec![self.and_expr(depth)?];
        while self.keyword("or") {
            parts.push(self.and_expr(depth)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Filter::Or(parts) })
    }

    /// `and_expr := unary ("and" unary)*`
    fn and_expr(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let mut parts = vec![self.unary(depth)?];
        while self.keyword("and") {
            parts.push(self.unary(depth)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Filter::And(parts) })
    }

    /// `unary := "not" unary | "(" or_expr ")" | condition`
    fn unary(&mut self, depth: usize) -> Result<Filter, FilterError> {
        if depth >= MAX_DEPTH {
            return Err(FilterError(format!("the filter nests deeper than {MAX_DEPTH} levels")));
        }
        if self.keyword("not") {
            return Ok(Filter::Not(Box::new(self.unary(depth + 1)?)));
        }
        if let Some(Token::Open) = self.peek() {
            self.next();
            let inner = self.or_expr(depth + 1)?;
            return match self.next() {
                Some(Token::Close) => Ok(inner),
                other => Err(FilterError(format!(
                    "expected ')' to close a group, not {}",
                    describe(other.as_ref())
                ))),
            };
        }
        Ok(Filter::Condition(self.condition()?))
    }
}

/// Parses a `filters` value. Blank text is the empty filter.
pub fn parse(text: &str) -> Result<Filter, FilterError> {
    if text.len() > MAX_FILTER_LEN {
        return Err(FilterError(format!("the filter is longer than {MAX_FILTER_LEN} bytes")));
    }
    let mut parser = Parser { tokens: tokenize(text)?.into_iter(), peeked: None };
    if parser.peek().is_none() {
        return Ok(Filter::All);
    }
    let filter = parser.or_expr(0)?;
    match parser.next() {
        None => Ok(filter),
        other => Err(FilterError(format!(
            "expected 'and', 'or' or the end of the filter, not {}",
            describe(other.as_ref())
        ))),
    }
}

fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    haystack.to_ascii_lowercase().contains(&needle.to_ascii_lowercase())
}

fn starts_with_ignoring_case(haystack: &str, prefix: &str) -> bool {
    haystack.to_ascii_lowercase().starts_with(&prefix.to_ascii_lowercase())
}

impl Condition {
    fn matches(&self, source: &SourceEntry) -> bool {
        let value = match self.field {
            Field::Name => source.name.as_str(),
            Field::Id => source.id.as_str(),
            Field::Features => {
                return match &self.op {
                    Op::Ca(all) => all.iter().all(|f| source.features.contains(f)),
                    _ => false,
                };
            }
        };
        match &self.op {
            Op::Eq(v) => value == v,
            Op::In(vs) => vs.iter().any(|v| v == value),
            Op::Sw(v) => starts_with_ignoring_case(value, v),
            Op::Co(v) => contains_ignoring_case(value, v),
            Op::Ca(_) => false,
        }
    }
}

impl Filter {
    /// Whether `source` satisfies the filter.
    pub fn matches(&self, source: &SourceEntry) -> bool {
        match self {
            Filter::All => true,
            Filter::Condition(c) => c.matches(source),
            Filter::And(parts) => parts.iter().all(|p| p.matches(source)),
            Filter::Or(parts) => parts.iter().any(|p| p.matches(source)),
            Filter::Not(part) => !part.matches(source),
        }
    }
}

/// A string literal in filter syntax (quotes and backslashes escaped).
pub fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list =
            |vs: &[String]| format!("({})", vs.iter().map(|v| quote(v)).collect::<Vec<_>>().join(", "));
        let field = match self.field {
            Field::Name => "name",
            Field::Id => "id",
            Field::Features => "features",
        };
        let op = match &self.op {
            Op::Eq(v) => format!("eq {}", quote(v)),
            Op::In(vs) => format!("in {}", list(vs)),
            Op::Sw(v) => format!("sw {}", quote(v)),
            Op::Co(v) => format!("co {}", quote(v)),
            Op::Ca(vs) => format!("ca {}", list(vs)),
        };
        write!(f, "{field} {op}")
    }
}

impl Filter {
    /// The filter as a part of a larger one: composites in parentheses.
    fn nested(&self) -> String {
        match self {
            Filter::And(_) | Filter::Or(_) => format!("({self})"),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Filter {
    /// The filter in ISC syntax; parsing it gives the same filter back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |parts: &[Filter], word: &str| {
            parts.iter().map(Filter::nested).collect::<Vec<_>>().join(&format!(" {word} "))
        };
        match self {
            Filter::All => Ok(()),
            Filter::Condition(c) => write!(f, "{c}"),
            Filter::And(parts) => f.write_str(&join(parts, "and")),
            Filter::Or(parts) => f.write_str(&join(parts, "or")),
            Filter::Not(part) => write!(f, "not {}", part.nested()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn source(name: &str, features: &[&str]) -> SourceEntry {
        SourceEntry {
            id: format!("id-{name}"),
            name: name.into(),
            features: features.iter().map(|f| f.to_string()).collect(),
        }
    }

    #[test]
    fn parses_and_matches_each_operator() {
        let ad = source("Active Directory", &["PROVISIONING", "PASSWORD"]);
        let hr = source("Workday \"HR\"", &["NO_RANDOM_ACCESS"]);
        let check = |text: &str, expect: [bool; 2]| {
            let f = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!([f.matches(&ad), f.matches(&hr)], expect, "{text}");
        };
        check("name eq \"Active Directory\"", [true, false]);
        check("name eq \"active directory\"", [false, false]);
        check("name in (\"Active Directory\", \"Workday \\\"HR\\\"\")", [true, true]);
        check("name sw \"active\"", [true, false]);
        check("name co \"DAY\"", [false, true]);
        check("id eq \"id-Active Directory\"", [true, false]);
        check("features ca (\"PASSWORD\")", [true, false]);
        check("features ca (\"PASSWORD\", \"PROVISIONING\")", [true, false]);
        check("features CA \"NO_RANDOM_ACCESS\"", [false, true]);
        check(
            "name in (\"Active Directory\", \"Workday \\\"HR\\\"\") AND features ca (\"PASSWORD\")",
            [true, false],
        );
        check("", [true, true]);
        check("  ", [true, true]);
    }

    #[test]
    fn refuses_what_it_does_not_support_with_a_reason() {
        let cases = [
            ("name eq \"a\" or", "expected a field"),
            ("not", "expected a field"),
            ("(name eq \"a\"", "expected ')'"),
            ("name eq \"a\")", "expected 'and', 'or'"),
            ("type eq \"x\"", "filtering on 'type'"),
            ("name ca (\"x\")", "operator 'ca'"),
            ("features eq \"PASSWORD\"", "use ca"),
            ("name eq a", "quoted string"),
            ("name eq \"a", "not closed"),
            ("name eq \"a\\n\"", "unknown escape"),
            ("name in (\"a\" \"b\")", "expected ',' or ')'"),
            ("name in ()", "quoted string"),
            ("()", "expected a field"),
            ("name eq \"a\" name eq \"b\"", "expected 'and'"),
            ("name eq \"a\" and", "expected a field"),
            ("name", "expected an operator"),
            ("name = \"a\"", "unexpected character '='"),
        ];
        for (text, needle) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.0.contains(needle), "{text}: {err}");
        }
        assert!(parse(&"x".repeat(MAX_FILTER_LEN + 1)).is_err());
        let deep = format!("{}name eq \"a\"{}", "(".repeat(1000), ")".repeat(1000));
        assert!(parse(&deep).unwrap_err().0.contains("nests deeper"));
        assert!(parse(&"not ".repeat(1000)).unwrap_err().0.contains("nests deeper"));
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        let a = source("A", &["PROVISIONING"]);
        let b = source("B", &["PASSWORD"]);
        let c = source("C", &["PASSWORD"]);
        let check = |text: &str, expect: [bool; 3]| {
            let f = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!([f.matches(&a), f.matches(&b), f.matches(&c)], expect, "{text}");
        };
        // `a or (b and c)`: A matches although it lacks the feature.
        check("name eq \"A\" or name eq \"B\" and features ca (\"PASSWORD\")", [true, true, false]);
        check("(name eq \"A\" or name eq \"B\") and features ca (\"PASSWORD\")", [false, true, false]);
        check("not name eq \"A\"", [false, true, true]);
        check("not (name eq \"A\" or name eq \"B\")", [false, false, true]);
        check("NOT features ca (\"PASSWORD\") OR name eq \"C\"", [true, false, true]);
        check("((name eq \"C\"))", [false, false, true]);
    }

    fn value() -> impl Strategy<Value = String> {
        "\\PC{0,12}"
    }

    fn condition() -> impl Strategy<Value = Condition> {
        let text_field = prop_oneof![Just(Field::Name), Just(Field::Id)];
        prop_oneof![
            (text_field.clone(), value()).prop_map(|(field, v)| Condition { field, op: Op::Eq(v) }),
            (text_field.clone(), proptest::collection::vec(value(), 1..4))
                .prop_map(|(field, v)| Condition { field, op: Op::In(v) }),
            (text_field.clone(), value()).prop_map(|(field, v)| Condition { field, op: Op::Sw(v) }),
            (text_field, value()).prop_map(|(field, v)| Condition { field, op: Op::Co(v) }),
            proptest::collection::vec(value(), 1..4)
                .prop_map(|v| Condition { field: Field::Features, op: Op::Ca(v) }),
        ]
    }

    fn expression() -> impl Strategy<Value = Filter> {
        condition().prop_map(Filter::Condition).prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 2..4).prop_map(Filter::And),
                proptest::collection::vec(inner.clone(), 2..4).prop_map(Filter::Or),
                inner.prop_map(|f| Filter::Not(Box::new(f))),
            ]
        })
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC*") {
            let _ = parse(&text);
        }

        #[test]
        fn never_panics_on_filter_shaped_text(parts in proptest::collection::vec(
            prop_oneof![
                Just("name".to_string()), Just("features".to_string()), Just("eq".to_string()),
                Just("in".to_string()), Just("ca".to_string()), Just("and".to_string()),
                Just("or".to_string()), Just("not".to_string()),
                Just("(".to_string()), Just(")".to_string()), Just(",".to_string()),
                Just("\"".to_string()), Just("\\".to_string()), "\\PC{0,4}",
            ],
            0..20,
        )) {
            let _ = parse(&parts.join(" "));
            let _ = parse(&parts.concat());
        }

        #[test]
        fn rendered_filters_parse_back(filter in expression()) {
            let text = filter.to_string();
            prop_assert_eq!(parse(&text), Ok(filter), "{}", text);
        }
    }
}
