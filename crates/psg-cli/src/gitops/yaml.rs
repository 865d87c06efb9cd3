//! A strict YAML reader that keeps the line of every node: one document,
//! anchors, aliases and merge keys (`<<`), every scalar kept as text (no
//! coercion), and limits against hostile input (nesting depth, alias
//! expansion, "billion laughs").
//!
//! Built on the event parser of `yaml-rust2`; the tree is built without
//! recursion so that no input can overflow the stack.

use std::collections::HashMap;
use std::rc::Rc;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

/// Deepest nesting of lists and mappings accepted.
pub const MAX_DEPTH: usize = 64;
/// Most values that aliases may add to a document (each use of an alias
/// counts every value under its anchor).
pub const MAX_ALIASED: usize = 1_000_000;

/// One node of the document, with the line (1-based) where it starts.
#[derive(Debug, Clone)]
pub struct Node {
    /// Line where the node starts.
    pub line: usize,
    /// What it holds.
    pub kind: Rc<Kind>,
    /// Nodes in this subtree, aliases expanded.
    size: usize,
}

/// The three shapes of YAML data.
#[derive(Debug)]
pub enum Kind {
    /// Text; `plain` is false for quoted and block scalars.
    Scalar {
        /// The text, never coerced.
        text: String,
        /// Written without quotes.
        plain: bool,
    },
    /// A list.
    Seq(Vec<Node>),
    /// A mapping with scalar keys, in file order, merge keys applied.
    Map(Vec<(Key, Node)>),
}

/// A mapping key: its text and line.
#[derive(Debug, Clone)]
pub struct Key {
    /// The key text.
    pub text: String,
    /// Line of the key.
    pub line: usize,
}

impl Node {
    /// The text of a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &*self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// True for an empty value: nothing, `~` or `null` (unquoted).
    pub fn is_null(&self) -> bool {
        matches!(&*self.kind, Kind::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The items of a list.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &*self.kind {
            Kind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The entries of a mapping.
    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &*self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().find(|(k, _)| k.text == key).map(|(_, v)| v)
    }
}

/// A document that could not be read: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// A syntax error or a refused construct at a line.
    At(usize, String),
    /// The stream holds this many documents (0 or more than 1).
    Documents(usize),
}

/// Problems found while building the tree that do not stop it: duplicate
/// keys, unsupported tags, bad merge values.
pub type Problems = Vec<(usize, String)>;

enum Frame {
    Seq { line: usize, anchor: usize, items: Vec<Node>, size: usize },
    Map { line: usize, anchor: usize, entries: Vec<(Node, Node)>, key: Option<Node>, size: usize },
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    problems: Problems,
    aliased: usize,
}

impl Builder {
    fn add(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, size, .. }) => {
                *size += node.size;
                items.push(node);
            }
            Some(Frame::Map { entries, key, size, .. }) => {
                *size += node.size;
                match key.take() {
                    None => *key = Some(node),
                    Some(k) => entries.push((k, node)),
                }
            }
        }
    }

    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.add(node);
    }

    fn map_node(&mut self, line: usize, entries: Vec<(Node, Node)>, size: usize) -> Node {
        let mut explicit: Vec<(Key, Node)> = Vec::new();
        // Key text -> line of its first occurrence: linear even for huge mappings.
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut merges = Vec::new();
        for (k, v) in entries {
            let text = match &*k.kind {
                Kind::Scalar { text, plain } => {
                    if *plain && text == "<<" {
                        merges.push(v);
                        continue;
                    }
                    text.clone()
                }
                _ => {
                    self.problems.push((k.line, "mapping keys must be plain text".into()));
                    continue;
                }
            };
            if let Some(first) = seen.get(&text) {
                self.problems.push((k.line, format!("duplicate key `{text}` (first at line {first})")));
                continue;
            }
            seen.insert(text.clone(), k.line);
            explicit.push((Key { text, line: k.line }, v));
        }
        for merge in merges {
            let sources: Vec<Node> = match &*merge.kind {
                Kind::Map(_) => vec![merge.clone()],
                Kind::Seq(items) if items.iter().all(|i| i.as_map().is_some()) => items.clone(),
                _ => {
                    self.problems.push((
                        merge.line,
                        "`<<` merges a mapping or a list of mappings, e.g. `<<: *common`".into(),
                    ));
                    continue;
                }
            };
            for source in sources {
                for (k, v) in source.as_map().unwrap_or_default() {
                    if !seen.contains_key(&k.text) {
                        seen.insert(k.text.clone(), k.line);
                        explicit.push((k.clone(), v.clone()));
                    }
                }
            }
        }
        Node { line, kind: Rc::new(Kind::Map(explicit)), size }
    }
}

/// Parses one YAML document.
pub fn load(text: &str) -> Result<(Node, Problems), LoadError> {
    let mut parser = Parser::new_from_str(text);
    let mut b =
        Builder { stack: Vec::new(), anchors: HashMap::new(), root: None, problems: Vec::new(), aliased: 0 };
    let mut documents = 0usize;
    loop {
        let (event, mark) = parser
            .next_token()
            .map_err(|e| LoadError::At(e.marker().line().max(1), format!("not valid YAML: {}", e.info())))?;
        let line = mark.line().max(1);
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart => documents += 1,
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
            Event::Alias(id) => {
                let Some(node) = b.anchors.get(&id).cloned() else {
                    return Err(LoadError::At(line, "alias to an unknown anchor".into()));
                };
                // Each use of an alias counts as a copy: "billion laughs" stops here.
                b.aliased = b.aliased.saturating_add(node.size);
                if b.aliased > MAX_ALIASED {
                    return Err(LoadError::At(
                        line,
                        format!(
                            "aliases expand the document past {MAX_ALIASED} values (a \"billion laughs\" file?); psg refuses it"
                        ),
                    ));
                }
                b.add(node);
            }
            Event::Scalar(text, style, anchor, tag) => {
                if let Some(tag) = tag {
                    b.problems.push((
                        line,
                        format!("tags such as `{}{}` are not supported", tag.handle, tag.suffix),
                    ));
                }
                let plain = style == TScalarStyle::Plain;
                let node = Node { line, kind: Rc::new(Kind::Scalar { text, plain }), size: 1 };
                b.finish(node, anchor);
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                if b.stack.len() >= MAX_DEPTH {
                    return Err(LoadError::At(line, format!("nested deeper than {MAX_DEPTH} levels")));
                }
                if let Some(tag) = tag {
                    b.problems.push((
                        line,
                        format!("tags such as `{}{}` are not supported", tag.handle, tag.suffix),
                    ));
                }
                let is_seq = matches!(event, Event::SequenceStart(..));
                b.stack.push(if is_seq {
                    Frame::Seq { line, anchor, items: Vec::new(), size: 1 }
                } else {
                    Frame::Map { line, anchor, entries: Vec::new(), key: None, size: 1 }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match b.stack.pop() {
                    Some(Frame::Seq { line, anchor, items, size }) => {
                        (Node { line, kind: Rc::new(Kind::Seq(items)), size }, anchor)
                    }
                    Some(Frame::Map { line, anchor, entries, size, .. }) => {
                        (b.map_node(line, entries, size), anchor)
                    }
                    None => return Err(LoadError::At(line, "not valid YAML: unbalanced structure".into())),
                };
                b.finish(node.0, node.1);
            }
        }
    }
    if documents != 1 {
        return Err(LoadError::Documents(documents));
    }
    match b.root {
        Some(root) => Ok((root, b.problems)),
        None => Err(LoadError::Documents(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based_and_scalars_stay_text() {
        let (root, problems) = load("a: 1\nb:\n  - yes\n  - 'x'\n").unwrap();
        assert!(problems.is_empty());
        assert_eq!(root.get("a").unwrap().as_str(), Some("1"));
        assert_eq!(root.get("a").unwrap().line, 1);
        let b = root.get("b").unwrap().as_seq().unwrap();
        assert_eq!(b[0].as_str(), Some("yes"));
        assert_eq!(b[1].line, 4);
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let text = "x-common: &c\n  p: 1\n  q: 2\nm:\n  <<: *c\n  q: 3\nl: *c\n";
        let (root, problems) = load(text).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        let m = root.get("m").unwrap();
        assert_eq!(m.get("p").unwrap().as_str(), Some("1"));
        assert_eq!(m.get("p").unwrap().line, 2, "merged values keep the anchor's line");
        assert_eq!(m.get("q").unwrap().as_str(), Some("3"), "explicit keys win");
        assert_eq!(root.get("l").unwrap().get("q").unwrap().as_str(), Some("2"));
    }

    #[test]
    fn duplicate_keys_are_problems_with_lines() {
        let (_, problems) = load("a: 1\nb: 2\na: 3\n").unwrap();
        assert_eq!(problems, [(3, "duplicate key `a` (first at line 1)".to_string())]);
    }

    #[test]
    fn documents_are_counted() {
        assert_eq!(load("a: 1\n---\nb: 2\n").unwrap_err(), LoadError::Documents(2));
        assert_eq!(load("").unwrap_err(), LoadError::Documents(0));
        assert!(load("---\na: 1\n").is_ok());
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let names = ["b", "c", "d", "e", "f", "g", "h", "i", "j"];
        let mut prev = "a";
        for n in names {
            text.push_str(&format!("{n}: &{n} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
            prev = n;
        }
        match load(&text) {
            Err(LoadError::At(_, m)) => assert!(m.contains("billion laughs"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        let text = "[".repeat(100_000);
        assert!(matches!(load(&text), Err(LoadError::At(1, _))));
    }
}
