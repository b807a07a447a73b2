//! A tiny, linear-time code highlighter for the viewer: comments, strings,
//! numbers, keywords and type names of the languages a coding session shows
//! most, as `<span class=…>` around escaped text. No grammar files, no
//! regexes: one pass over the bytes (a syntect-style highlighter would add
//! megabytes of syntax definitions and a regex engine for colours).

use super::render::esc;

/// How one language looks to the scanner.
struct Lang {
    /// Line comment openers.
    line: &'static [&'static str],
    /// Block comment (open, close).
    block: Option<(&'static str, &'static str)>,
    /// String quote characters; a string may span lines only for `multi`.
    quotes: &'static [u8],
    multi: &'static [u8],
    /// Python-style triple-quoted strings.
    triple: bool,
    /// A `#` comment only at the start of a word (shell: `$#`, `a#b`).
    hash_word_start: bool,
    /// Capitalized identifiers are types.
    types: bool,
    /// Rust: `'a` is a lifetime, not a character.
    lifetimes: bool,
    keywords: &'static [&'static str],
}

#[rustfmt::skip]
const RUST_KW: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
    "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true",
    "type", "unsafe", "use", "where", "while", "None", "Some", "Ok", "Err",
];
#[rustfmt::skip]
const JS_KW: &[&str] = &[
    "async", "await", "break", "case", "catch", "class", "const", "continue", "default",
    "delete", "do", "else", "export", "extends", "false", "finally", "for", "from", "function",
    "if", "import", "in", "instanceof", "interface", "let", "new", "null", "of", "return",
    "static", "super", "switch", "this", "throw", "true", "try", "type", "typeof", "undefined",
    "var", "void", "while", "yield", "enum", "implements", "private", "public", "readonly",
];
#[rustfmt::skip]
const PY_KW: &[&str] = &[
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
    "else", "except", "False", "finally", "for", "from", "global", "if", "import", "in", "is",
    "lambda", "None", "nonlocal", "not", "or", "pass", "raise", "return", "self", "True", "try",
    "while", "with", "yield",
];
#[rustfmt::skip]
const GO_KW: &[&str] = &[
    "break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough",
    "false", "for", "func", "go", "goto", "if", "import", "interface", "map", "nil", "package",
    "range", "return", "select", "struct", "switch", "true", "type", "var",
];
#[rustfmt::skip]
const C_KW: &[&str] = &[
    "auto", "bool", "break", "case", "catch", "char", "class", "const", "continue", "default",
    "delete", "do", "double", "else", "enum", "extends", "extern", "false", "final", "float",
    "for", "fun", "func", "goto", "if", "implements", "import", "int", "interface", "let",
    "long", "namespace", "new", "null", "nullptr", "override", "package", "private",
    "protected", "public", "return", "short", "signed", "sizeof", "static", "struct", "switch",
    "template", "this", "throw", "throws", "true", "try", "typedef", "union", "unsigned",
    "using", "val", "var", "virtual", "void", "volatile", "while",
];
#[rustfmt::skip]
const SH_KW: &[&str] = &[
    "case", "do", "done", "elif", "else", "esac", "export", "fi", "for", "function", "if", "in",
    "local", "return", "then", "until", "while", "cd", "echo", "exit", "set", "source", "unset",
];
#[rustfmt::skip]
const RUBY_KW: &[&str] = &[
    "begin", "class", "def", "do", "else", "elsif", "end", "ensure", "false", "if", "module",
    "nil", "require", "rescue", "return", "self", "then", "true", "unless", "until", "when",
    "while", "yield",
];
#[rustfmt::skip]
const SQL_KW: &[&str] = &[
    "select", "from", "where", "insert", "into", "values", "update", "set", "delete", "create",
    "table", "index", "on", "and", "or", "not", "null", "primary", "key", "join", "left",
    "inner", "group", "by", "order", "limit", "as", "alter", "add", "column", "drop", "unique",
    "SELECT", "FROM", "WHERE", "INSERT", "INTO", "VALUES", "UPDATE", "SET", "DELETE", "CREATE",
    "TABLE", "INDEX", "ON", "AND", "OR", "NOT", "NULL", "PRIMARY", "KEY", "JOIN", "LEFT",
    "INNER", "GROUP", "BY", "ORDER", "LIMIT", "AS", "ALTER", "ADD", "COLUMN", "DROP", "UNIQUE",
];
const DATA_KW: &[&str] = &["true", "false", "null", "yes", "no"];

const fn lang(
    line: &'static [&'static str],
    block: Option<(&'static str, &'static str)>,
    quotes: &'static [u8],
    keywords: &'static [&'static str],
) -> Lang {
    Lang {
        line,
        block,
        quotes,
        multi: b"",
        triple: false,
        hash_word_start: false,
        types: true,
        lifetimes: false,
        keywords,
    }
}

const C_BLOCK: Option<(&str, &str)> = Some(("/*", "*/"));

static RUST: Lang = Lang {
    lifetimes: true,
    multi: b"\"",
    ..lang(&["//"], C_BLOCK, b"\"'", RUST_KW)
};
static JS: Lang = Lang {
    multi: b"`",
    ..lang(&["//"], C_BLOCK, b"\"'`", JS_KW)
};
static GO: Lang = Lang {
    multi: b"`",
    ..lang(&["//"], C_BLOCK, b"\"'`", GO_KW)
};
static C: Lang = lang(&["//"], C_BLOCK, b"\"'", C_KW);
static PY: Lang = Lang {
    triple: true,
    ..lang(&["#"], None, b"\"'", PY_KW)
};
static SH: Lang = Lang {
    hash_word_start: true,
    types: false,
    multi: b"\"'",
    ..lang(&["#"], None, b"\"'", SH_KW)
};
static RUBY: Lang = lang(&["#"], None, b"\"'", RUBY_KW);
static CONF: Lang = Lang {
    hash_word_start: true,
    types: false,
    ..lang(&["#", ";"], None, b"\"'", DATA_KW)
};
static JSON: Lang = Lang {
    types: false,
    ..lang(&[], None, b"\"", DATA_KW)
};
static SQL: Lang = Lang {
    types: false,
    ..lang(&["--"], C_BLOCK, b"'\"", SQL_KW)
};
static CSS: Lang = Lang {
    types: false,
    ..lang(&[], C_BLOCK, b"\"'", &[])
};

/// The scanner for a fence language or file extension; None for plain text.
fn lang_for(name: &str) -> Option<&'static Lang> {
    let name = name.trim().to_ascii_lowercase();
    Some(match name.as_str() {
        "rust" | "rs" => &RUST,
        "js" | "jsx" | "mjs" | "cjs" | "javascript" | "ts" | "tsx" | "typescript" | "mts"
        | "cts" => &JS,
        "go" | "golang" => &GO,
        "c" | "h" | "cc" | "cpp" | "cxx" | "hpp" | "c++" | "java" | "kotlin" | "kt" | "kts"
        | "swift" | "cs" | "csharp" | "scala" | "dart" | "zig" | "proto" => &C,
        "python" | "py" | "pyi" => &PY,
        "sh" | "bash" | "shell" | "zsh" | "console" | "shell-session" | "fish" => &SH,
        "ruby" | "rb" => &RUBY,
        "toml" | "yaml" | "yml" | "ini" | "conf" | "cfg" | "dockerfile" | "makefile" | "make"
        | "env" | "properties" | "gitignore" => &CONF,
        "json" | "jsonc" | "json5" | "jsonl" => &JSON,
        "sql" => &SQL,
        "css" | "scss" | "less" => &CSS,
        _ => return None,
    })
}

/// The language of a file path, by its extension (or name).
pub fn lang_of_path(path: &str) -> &str {
    let file = path.rsplit('/').next().unwrap_or(path);
    match file.rsplit_once('.') {
        Some((_, ext)) if !ext.is_empty() => ext,
        _ => file,
    }
}

/// Above this size code is only escaped.
const MAX_HIGHLIGHT: usize = 256 * 1024;

/// Append `code` as highlighted HTML (no `<pre>` around it).
pub fn highlight(out: &mut String, lang: &str, code: &str) {
    if lang.eq_ignore_ascii_case("diff") || lang.eq_ignore_ascii_case("patch") {
        return diff_lines(out, code);
    }
    match lang_for(lang) {
        Some(l) if code.len() <= MAX_HIGHLIGHT => scan(out, l, code),
        _ => esc(out, code),
    }
}

/// A unified diff, a block span per line classed by its first character.
pub fn diff_lines(out: &mut String, code: &str) {
    for line in code.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let class = if body.starts_with("+++ ")
            || body.starts_with("--- ")
            || body.starts_with("diff ")
            || body.starts_with("index ")
        {
            "line file"
        } else if body.starts_with("@@") {
            "line hunk"
        } else if body.starts_with('+') {
            "line add"
        } else if body.starts_with('-') {
            "line del"
        } else {
            "line"
        };
        out.push_str("<span class=\"");
        out.push_str(class);
        out.push_str("\">");
        esc(out, body);
        // Each line is a block: no newline between them (it would show
        // as an empty line).
        out.push_str("</span>");
    }
}

fn span(out: &mut String, class: &str, text: &str) {
    out.push_str("<span class=\"");
    out.push_str(class);
    out.push_str("\">");
    esc(out, text);
    out.push_str("</span>");
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Where a string opened by `quote` at `start` ends (exclusive).
fn string_end(b: &[u8], start: usize, quote: u8, multi: bool, escapes: bool) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' if escapes => i += 2,
            b'\n' if !multi => return i,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

fn scan(out: &mut String, l: &Lang, code: &str) {
    let b = code.as_bytes();
    let mut i = 0;
    let mut plain = 0;
    // Every token starts and ends on an ASCII byte, so slices stay on char
    // boundaries.
    let emit = |out: &mut String, plain: &mut usize, start: usize, end: usize, class: &str| {
        esc(out, &code[*plain..start]);
        span(out, class, &code[start..end]);
        *plain = end;
    };
    while i < b.len() {
        let c = b[i];
        let word_start = i == 0 || !is_ident(b[i - 1]);
        if let Some(m) = l.line.iter().find(|m| b[i..].starts_with(m.as_bytes())) {
            let hash_ok =
                !(l.hash_word_start && *m == "#") || i == 0 || b[i - 1].is_ascii_whitespace();
            if hash_ok {
                let end = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |p| i + p);
                emit(out, &mut plain, i, end, "c");
                i = end;
                continue;
            }
        }
        if let Some((open, close)) = l.block {
            if b[i..].starts_with(open.as_bytes()) {
                let end =
                    find(b, i + open.len(), close.as_bytes()).map_or(b.len(), |p| p + close.len());
                emit(out, &mut plain, i, end, "c");
                i = end;
                continue;
            }
        }
        if l.quotes.contains(&c) {
            if l.lifetimes && c == b'\'' {
                // 'a' and '\n' are characters; 'a without a closing quote a lifetime.
                let close = if b.get(i + 1) == Some(&b'\\') {
                    find(b, i + 2, b"'").filter(|p| *p <= i + 10)
                } else {
                    let n = code[i + 1..].chars().next().map_or(1, char::len_utf8);
                    (b.get(i + 1 + n) == Some(&b'\'')).then_some(i + 1 + n)
                };
                if let Some(p) = close {
                    emit(out, &mut plain, i, p + 1, "s");
                    i = p + 1;
                } else {
                    i += 1;
                }
                continue;
            }
            if l.triple && b[i..].starts_with(&[c, c, c]) {
                let end = find(b, i + 3, &[c, c, c]).map_or(b.len(), |p| p + 3);
                emit(out, &mut plain, i, end, "s");
                i = end;
                continue;
            }
            let escapes = !(l.hash_word_start && c == b'\'');
            let end = string_end(b, i, c, l.multi.contains(&c), escapes);
            emit(out, &mut plain, i, end, "s");
            i = end;
            continue;
        }
        if c.is_ascii_digit() && word_start {
            let mut end = i + 1;
            while end < b.len() && (is_ident(b[end]) || b[end] == b'.') {
                end += 1;
            }
            emit(out, &mut plain, i, end, "n");
            i = end;
            continue;
        }
        if (c.is_ascii_alphabetic() || c == b'_') && word_start {
            let mut end = i + 1;
            while end < b.len() && is_ident(b[end]) {
                end += 1;
            }
            let word = &code[i..end];
            if l.keywords.contains(&word) {
                emit(out, &mut plain, i, end, "k");
            } else if l.types && c.is_ascii_uppercase() && word.len() > 1 {
                emit(out, &mut plain, i, end, "t");
            }
            i = end;
            continue;
        }
        i += 1;
    }
    esc(out, &code[plain..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hl(lang: &str, code: &str) -> String {
        let mut out = String::new();
        highlight(&mut out, lang, code);
        out
    }

    #[test]
    fn marks_keywords_strings_comments_and_numbers() {
        let out = hl("rust", "fn main() { let s = \"<b>\"; // done\n 42 }");
        assert!(out.contains("<span class=\"k\">fn</span>"), "{out}");
        assert!(
            out.contains("<span class=\"s\">&quot;&lt;b&gt;&quot;</span>"),
            "{out}"
        );
        assert!(out.contains("<span class=\"c\">// done</span>"), "{out}");
        assert!(out.contains("<span class=\"n\">42</span>"), "{out}");
    }

    #[test]
    fn rust_lifetimes_are_not_strings_and_text_survives() {
        let code = "fn f<'a>(x: &'a str) -> char { 'é' } // ünï\n";
        let out = hl("rs", code);
        assert!(
            out.contains("<span class=\"s\">&#39;é&#39;</span>"),
            "{out}"
        );
        assert!(!out.contains("<span class=\"s\">'a>"), "{out}");
        let mut plain = String::new();
        esc(&mut plain, code);
        let stripped = out
            .replace("<span class=\"k\">", "")
            .replace("<span class=\"s\">", "")
            .replace("<span class=\"c\">", "")
            .replace("<span class=\"t\">", "")
            .replace("</span>", "");
        assert_eq!(stripped, plain);
    }

    #[test]
    fn shell_hash_only_at_word_start_and_unknown_languages_are_escaped() {
        let out = hl("bash", "echo $# # count");
        assert!(out.contains("$# <span class=\"c\"># count</span>"), "{out}");
        assert_eq!(hl("brainfuck", "<x>"), "&lt;x&gt;");
        // An unterminated string or comment ends with the text.
        assert!(hl("js", "a = `x\ny").ends_with("`x\ny</span>"));
        assert!(hl("c", "/* open").ends_with("/* open</span>"));
    }
}
