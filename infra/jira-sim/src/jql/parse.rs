//! JQL syntax: tokens and a recursive-descent parser producing the query tree.
//! Error texts follow Jira's ("Error in the JQL Query: … (line 1, character N)").

use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum Operator {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Like,
    NotLike,
    In,
    NotIn,
    Is,
    IsNot,
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operator::Eq => "=",
            Operator::Ne => "!=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::Like => "~",
            Operator::NotLike => "!~",
            Operator::In => "in",
            Operator::NotIn => "not in",
            Operator::Is => "is",
            Operator::IsNot => "is not",
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A literal; `quoted` keeps how it was written for the parse structure.
    Value {
        text: String,
        quoted: bool,
    },
    List(Vec<Operand>),
    Empty,
    Function {
        name: String,
        args: Vec<String>,
    },
}

impl Operand {
    /// The operand as an error message quotes it.
    pub fn text(&self) -> String {
        match self {
            Operand::Value { text, .. } => text.clone(),
            Operand::Function { name, .. } => format!("{name}()"),
            Operand::Empty => "EMPTY".into(),
            Operand::List(_) => "(…)".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Clause {
    And(Vec<Clause>),
    Or(Vec<Clause>),
    Not(Box<Clause>),
    Term {
        field: String,
        operator: Operator,
        operand: Operand,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderBy {
    pub field: String,
    pub descending: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Query {
    pub clause: Option<Clause>,
    pub order_by: Vec<OrderBy>,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    /// 1-based character position, as Jira reports it.
    at: usize,
}

fn describe(t: Option<&Token>) -> String {
    match t.map(|t| &t.tok) {
        None => "EOF".to_string(),
        Some(Tok::Word(w)) => w.clone(),
        Some(Tok::Quoted(w)) => format!("\"{w}\""),
        Some(Tok::Op(o)) => o.to_string(),
        Some(Tok::LParen) => "(".into(),
        Some(Tok::RParen) => ")".into(),
        Some(Tok::Comma) => ",".into(),
    }
}

fn syntax_error(message: String, at: usize) -> String {
    format!("Error in the JQL Query: {message} (line 1, character {at})")
}

const OPERATORS_HINT: &str = "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'.";

fn lex(input: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push(Token {
                    tok: Tok::LParen,
                    at,
                });
                i += 1;
            }
            ')' => {
                tokens.push(Token {
                    tok: Tok::RParen,
                    at,
                });
                i += 1;
            }
            ',' => {
                tokens.push(Token {
                    tok: Tok::Comma,
                    at,
                });
                i += 1;
            }
            '"' | '\'' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(syntax_error(
                                format!("The quoted string '{text}' has not been completed."),
                                at,
                            ));
                        }
                        Some('\\') => {
                            if let Some(n) = chars.get(i + 1) {
                                text.push(*n);
                            }
                            i += 2;
                        }
                        Some(q) if *q == c => {
                            i += 1;
                            break;
                        }
                        Some(other) => {
                            text.push(*other);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token {
                    tok: Tok::Quoted(text),
                    at,
                });
            }
            '=' => {
                tokens.push(Token {
                    tok: Tok::Op("="),
                    at,
                });
                i += 1;
            }
            '!' | '<' | '>' | '~' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('!', Some('=')) => ("!=", 2),
                    ('!', Some('~')) => ("!~", 2),
                    ('<', Some('=')) => ("<=", 2),
                    ('>', Some('=')) => (">=", 2),
                    ('<', _) => ("<", 1),
                    ('>', _) => (">", 1),
                    ('~', _) => ("~", 1),
                    _ => {
                        return Err(syntax_error(
                            format!(
                                "The character '{c}' is a reserved JQL character. You must enclose it in a string or use the escape '\\u0021' instead."
                            ),
                            at,
                        ));
                    }
                };
                tokens.push(Token {
                    tok: Tok::Op(op),
                    at,
                });
                i += len;
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !"()=,!<>~\"'".contains(chars[i])
                {
                    i += 1;
                }
                tokens.push(Token {
                    tok: Tok::Word(chars[start..i].iter().collect()),
                    at,
                });
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    end: usize,
}

fn is_keyword(t: Option<&Token>, kw: &str) -> bool {
    matches!(t, Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(kw))
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }
    fn peek_at(&self, n: usize) -> Option<&Token> {
        self.tokens.get(self.pos + n)
    }
    fn at(&self) -> usize {
        self.peek().map(|t| t.at).unwrap_or(self.end)
    }

    /// Jira's error where a field name was expected and something else came.
    fn expected_field(&self) -> String {
        syntax_error(
            format!(
                "Expecting a field name but got '{}'.",
                describe(self.peek())
            ),
            self.at(),
        )
    }

    fn query(&mut self) -> Result<Query, String> {
        let mut query = Query::default();
        if !(is_keyword(self.peek(), "order") && is_keyword(self.peek_at(1), "by"))
            && self.peek().is_some()
        {
            query.clause = Some(self.or()?);
        }
        if is_keyword(self.peek(), "order") {
            self.pos += 1;
            if !is_keyword(self.peek(), "by") {
                return Err(syntax_error(
                    format!("Expecting 'by' but got '{}'.", describe(self.peek())),
                    self.at(),
                ));
            }
            self.pos += 1;
            loop {
                let field = match self.peek().map(|t| t.tok.clone()) {
                    Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => w,
                    _ => {
                        return Err(self.expected_field());
                    }
                };
                self.pos += 1;
                let descending = if is_keyword(self.peek(), "desc") {
                    self.pos += 1;
                    Some(true)
                } else if is_keyword(self.peek(), "asc") {
                    self.pos += 1;
                    Some(false)
                } else {
                    None
                };
                query.order_by.push(OrderBy { field, descending });
                if matches!(self.peek().map(|t| &t.tok), Some(Tok::Comma)) {
                    self.pos += 1;
                } else {
                    break;
                }
            }
        }
        if let Some(t) = self.peek() {
            return Err(syntax_error(
                format!(
                    "Expecting either 'OR' or 'AND' but got '{}'.",
                    describe(Some(t))
                ),
                t.at,
            ));
        }
        Ok(query)
    }

    fn or(&mut self) -> Result<Clause, String> {
        self.joined("or", "||", Self::and, Clause::Or)
    }

    fn and(&mut self) -> Result<Clause, String> {
        self.joined("and", "&&", Self::not, Clause::And)
    }

    /// `next` once, or several times joined by `keyword` (or its `symbol`) into one clause.
    fn joined(
        &mut self,
        keyword: &str,
        symbol: &str,
        next: fn(&mut Self) -> Result<Clause, String>,
        join: fn(Vec<Clause>) -> Clause,
    ) -> Result<Clause, String> {
        let mut parts = vec![next(self)?];
        while is_keyword(self.peek(), keyword)
            || matches!(self.peek().map(|t| &t.tok), Some(Tok::Word(w)) if w == symbol)
        {
            self.pos += 1;
            parts.push(next(self)?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap()
        } else {
            join(parts)
        })
    }

    fn not(&mut self) -> Result<Clause, String> {
        if is_keyword(self.peek(), "not") {
            self.pos += 1;
            return Ok(Clause::Not(Box::new(self.not()?)));
        }
        if matches!(self.peek().map(|t| &t.tok), Some(Tok::LParen)) {
            self.pos += 1;
            let inner = self.or()?;
            if !matches!(self.peek().map(|t| &t.tok), Some(Tok::RParen)) {
                return Err(syntax_error(
                    format!("Expecting ')' but got '{}'.", describe(self.peek())),
                    self.at(),
                ));
            }
            self.pos += 1;
            return Ok(inner);
        }
        self.term()
    }

    fn term(&mut self) -> Result<Clause, String> {
        let field = match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Word(w))
                if !["and", "or", "order"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k)) =>
            {
                w
            }
            Some(Tok::Quoted(w)) => w,
            _ => {
                return Err(self.expected_field());
            }
        };
        self.pos += 1;
        let op_at = self.at();
        let operator = match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Op(op)) => {
                self.pos += 1;
                match op {
                    "=" => Operator::Eq,
                    "!=" => Operator::Ne,
                    ">" => Operator::Gt,
                    ">=" => Operator::Ge,
                    "<" => Operator::Lt,
                    "<=" => Operator::Le,
                    "~" => Operator::Like,
                    _ => Operator::NotLike,
                }
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => {
                self.pos += 1;
                Operator::In
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("is") => {
                self.pos += 1;
                if is_keyword(self.peek(), "not") {
                    self.pos += 1;
                    Operator::IsNot
                } else {
                    Operator::Is
                }
            }
            Some(Tok::Word(w))
                if w.eq_ignore_ascii_case("not") && is_keyword(self.peek_at(1), "in") =>
            {
                self.pos += 2;
                Operator::NotIn
            }
            _ => {
                return Err(syntax_error(
                    format!(
                        "Expecting operator but got '{}'. {OPERATORS_HINT}",
                        describe(self.peek())
                    ),
                    op_at,
                ));
            }
        };
        let operand = self.operand()?;
        Ok(Clause::Term {
            field,
            operator,
            operand,
        })
    }

    fn operand(&mut self) -> Result<Operand, String> {
        let at = self.at();
        match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::LParen) => {
                self.pos += 1;
                let mut values = Vec::new();
                loop {
                    values.push(self.operand()?);
                    match self.peek().map(|t| &t.tok) {
                        Some(Tok::Comma) => self.pos += 1,
                        Some(Tok::RParen) => {
                            self.pos += 1;
                            break;
                        }
                        _ => {
                            return Err(syntax_error(
                                format!(
                                    "Expecting ',' or ')' but got '{}'.",
                                    describe(self.peek())
                                ),
                                self.at(),
                            ));
                        }
                    }
                }
                Ok(Operand::List(values))
            }
            Some(Tok::Quoted(text)) => {
                self.pos += 1;
                Ok(Operand::Value { text, quoted: true })
            }
            Some(Tok::Word(w))
                if w.eq_ignore_ascii_case("empty") || w.eq_ignore_ascii_case("null") =>
            {
                self.pos += 1;
                Ok(Operand::Empty)
            }
            Some(Tok::Word(w)) if matches!(self.peek_at(1).map(|t| &t.tok), Some(Tok::LParen)) => {
                self.pos += 2;
                let mut args = Vec::new();
                loop {
                    match self.peek().map(|t| t.tok.clone()) {
                        Some(Tok::RParen) => {
                            self.pos += 1;
                            break;
                        }
                        Some(Tok::Comma) => self.pos += 1,
                        Some(Tok::Word(a)) | Some(Tok::Quoted(a)) => {
                            args.push(a);
                            self.pos += 1;
                        }
                        _ => {
                            return Err(syntax_error(
                                format!("Expecting ')' but got '{}'.", describe(self.peek())),
                                self.at(),
                            ));
                        }
                    }
                }
                Ok(Operand::Function { name: w, args })
            }
            Some(Tok::Word(w))
                if !["and", "or", "order", "not"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k)) =>
            {
                self.pos += 1;
                Ok(Operand::Value {
                    text: w,
                    quoted: false,
                })
            }
            other => {
                let got = other
                    .map(|_| describe(self.peek()))
                    .unwrap_or_else(|| "EOF".into());
                Err(syntax_error(
                    format!(
                        "Expecting either a value, list or function but got '{got}'. You must surround '{got}' in quotation marks to use it as a value."
                    ),
                    at,
                ))
            }
        }
    }
}

/// Parses JQL text into a query tree, or returns Jira's syntax error message.
pub fn parse(input: &str) -> Result<Query, String> {
    let tokens = lex(input)?;
    let end = input.chars().count() + 1;
    Parser {
        tokens,
        pos: 0,
        end,
    }
    .query()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(field: &str, operator: Operator, text: &str) -> Clause {
        Clause::Term {
            field: field.into(),
            operator,
            operand: Operand::Value {
                text: text.into(),
                quoted: false,
            },
        }
    }

    #[test]
    fn precedence_and_binds_tighter_than_or() {
        let q = parse("project = A OR project = B AND status = Done").unwrap();
        assert_eq!(
            q.clause.unwrap(),
            Clause::Or(vec![
                term("project", Operator::Eq, "A"),
                Clause::And(vec![
                    term("project", Operator::Eq, "B"),
                    term("status", Operator::Eq, "Done")
                ])
            ])
        );
    }

    #[test]
    fn lists_negation_empty_and_order() {
        let q = parse("project not in (A, \"B\") AND NOT assignee is EMPTY AND updated >= -90d ORDER BY updated DESC, key").unwrap();
        let Some(Clause::And(parts)) = q.clause else {
            panic!()
        };
        assert!(
            matches!(&parts[0], Clause::Term { operator: Operator::NotIn, operand: Operand::List(v), .. } if v.len() == 2)
        );
        assert!(
            matches!(&parts[1], Clause::Not(inner) if matches!(**inner, Clause::Term { operator: Operator::Is, operand: Operand::Empty, .. }))
        );
        assert_eq!(parts[2], term("updated", Operator::Ge, "-90d"));
        assert_eq!(
            q.order_by,
            vec![
                OrderBy {
                    field: "updated".into(),
                    descending: Some(true)
                },
                OrderBy {
                    field: "key".into(),
                    descending: None
                }
            ]
        );
    }

    #[test]
    fn order_by_alone_has_no_clause() {
        let q = parse("order by key desc").unwrap();
        assert!(q.clause.is_none());
    }

    #[test]
    fn reports_jira_style_errors() {
        assert_eq!(
            parse("invalid query").unwrap_err(),
            "Error in the JQL Query: Expecting operator but got 'query'. The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'. (line 1, character 9)"
        );
        assert!(
            parse("project = ")
                .unwrap_err()
                .contains("Expecting either a value, list or function")
        );
        assert!(parse("(project = A").unwrap_err().contains("Expecting ')'"));
        assert!(
            parse("summary ~ \"open")
                .unwrap_err()
                .contains("has not been completed")
        );
    }
}
