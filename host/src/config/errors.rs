//! Configuration errors that name the key (as a path) and its line.

use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPathSegment {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
    /// An array element by its name (an exchange's `name`, a market's
    /// `symbol`): how errors are shown, once located.
    Named(String),
}

/// A key path such as `exchanges[0].markets[1].limits.max_order_size`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyPath(pub Vec<KeyPathSegment>);

impl KeyPath {
    /// The path of a top-level key.
    pub fn key(key: &str) -> KeyPath {
        KeyPath(vec![KeyPathSegment::Key(key.to_owned())])
    }

    /// This path followed by a key.
    pub fn join(&self, key: &str) -> KeyPath {
        let mut path = self.clone();
        path.0.push(KeyPathSegment::Key(key.to_owned()));
        path
    }

    /// This path followed by an array index.
    pub fn index(&self, index: usize) -> KeyPath {
        let mut path = self.clone();
        path.0.push(KeyPathSegment::Index(index));
        path
    }

    /// This path followed by `other`.
    pub fn extend(&self, other: KeyPath) -> KeyPath {
        let mut path = self.clone();
        path.0.extend(other.0);
        path
    }

    /// This path with each array index replaced by the element's name (its
    /// `name` or `symbol` key) where `document` gives one:
    /// `exchanges[hl-local].markets[BTC-USD]` rather than
    /// `exchanges[0].markets[1]`.
    pub fn named(&self, document: &Spanned<DeTable<'_>>) -> KeyPath {
        let mut named = Vec::with_capacity(self.0.len());
        let mut value: Option<&DeValue<'_>> = None;
        let mut table = Some(document.get_ref());
        for segment in &self.0 {
            let mut label = None;
            let item = match (segment, table, value) {
                (KeyPathSegment::Key(key), Some(table), _) => table
                    .iter()
                    .find(|(name, _)| name.get_ref().as_ref() == key.as_str())
                    .map(|(_, item)| item.get_ref()),
                (KeyPathSegment::Index(index), _, Some(DeValue::Array(items))) => {
                    label = unique_name(items, *index);
                    items.get(*index).map(Spanned::get_ref)
                }
                _ => None,
            };
            named.push(label.map_or_else(|| segment.clone(), KeyPathSegment::Named));
            value = item;
            table = match item {
                Some(DeValue::Table(inner)) => Some(inner),
                _ => None,
            };
        }
        KeyPath(named)
    }

    /// Converts serde_path_to_error's path.
    pub fn from_tracked(path: &serde_path_to_error::Path) -> KeyPath {
        KeyPath(
            path.iter()
                .filter_map(|segment| match segment {
                    serde_path_to_error::Segment::Seq { index } => {
                        Some(KeyPathSegment::Index(*index))
                    }
                    serde_path_to_error::Segment::Map { key } => {
                        Some(KeyPathSegment::Key(key.clone()))
                    }
                    _ => None,
                })
                .collect(),
        )
    }

    /// Converts serde_ignored's path.
    pub fn from_ignored(path: &serde_ignored::Path<'_>) -> KeyPath {
        let mut segments = Vec::new();
        let mut current = Some(path);
        while let Some(step) = current {
            current = match step {
                serde_ignored::Path::Root => None,
                serde_ignored::Path::Seq { parent, index } => {
                    segments.push(KeyPathSegment::Index(*index));
                    Some(*parent)
                }
                serde_ignored::Path::Map { parent, key } => {
                    segments.push(KeyPathSegment::Key(key.clone()));
                    Some(*parent)
                }
                serde_ignored::Path::Some { parent }
                | serde_ignored::Path::NewtypeStruct { parent }
                | serde_ignored::Path::NewtypeVariant { parent } => Some(*parent),
            };
        }
        segments.reverse();
        KeyPath(segments)
    }

    /// Where this key is written in `document`: the span of its key, or of
    /// the nearest enclosing one that exists.
    pub fn locate(&self, document: &Spanned<DeTable<'_>>) -> Option<Range<usize>> {
        let mut found = None;
        let mut value: Option<&DeValue<'_>> = None;
        let mut table = Some(document.get_ref());
        for segment in &self.0 {
            let next = match (segment, table, value) {
                (KeyPathSegment::Key(key), Some(table), _) => table
                    .iter()
                    .find(|(name, _)| name.get_ref().as_ref() == key.as_str())
                    .map(|(name, item)| (name.span(), item)),
                (KeyPathSegment::Index(index), _, Some(DeValue::Array(items))) => {
                    items.get(*index).map(|item| (item.span(), item))
                }
                _ => None,
            };
            let Some((span, item)) = next else { break };
            found = Some(span);
            value = Some(item.get_ref());
            table = match item.get_ref() {
                DeValue::Table(inner) => Some(inner),
                _ => None,
            };
        }
        found
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, segment) in self.0.iter().enumerate() {
            match segment {
                KeyPathSegment::Key(key) if position == 0 => f.write_str(key)?,
                KeyPathSegment::Key(key) => write!(f, ".{key}")?,
                KeyPathSegment::Index(index) => write!(f, "[{index}]")?,
                KeyPathSegment::Named(name) => write!(f, "[{name}]")?,
            }
        }
        Ok(())
    }
}

/// The name element `index` of `items` goes by, if no other element shares
/// it (an error about a duplicate must not point at both).
fn unique_name(items: &[Spanned<DeValue<'_>>], index: usize) -> Option<String> {
    let name_of = |item: &Spanned<DeValue<'_>>| match item.get_ref() {
        DeValue::Table(element) => element_name(element),
        _ => None,
    };
    let name = name_of(items.get(index)?)?;
    let shared = items
        .iter()
        .enumerate()
        .any(|(other, item)| other != index && name_of(item).as_ref() == Some(&name));
    (!shared).then_some(name)
}

/// The name an array element goes by: its `name`, else its `symbol`, when
/// it is a plain string that reads well inside brackets.
fn element_name(element: &DeTable<'_>) -> Option<String> {
    ["name", "symbol"].iter().find_map(|key| {
        let (_, value) = element
            .iter()
            .find(|(name, _)| name.get_ref().as_ref() == *key)?;
        match value.get_ref() {
            DeValue::String(text)
                if !text.is_empty()
                    && text
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_./:".contains(c)) =>
            {
                Some(text.to_string())
            }
            _ => None,
        }
    })
}

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The key (empty for syntax errors).
    pub path: KeyPath,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if !self.path.0.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    /// The file, if read from one.
    pub file: Option<String>,
    /// The problems, in file order.
    pub errors: Vec<ConfigError>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.errors.len();
        match &self.file {
            Some(file) => writeln!(f, "{file}: {count} error{}", plural(count))?,
            None => writeln!(f, "{count} configuration error{}", plural(count))?,
        }
        for error in &self.errors {
            writeln!(f, "  {error}")?;
        }
        Ok(())
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count()
        + 1
}
