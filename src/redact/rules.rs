//! The built-in secret detectors: one regex per rule plus a check that
//! rejects look-alikes the regex alone cannot rule out (placeholders, code,
//! prose, low-entropy strings).
//!
//! Every regex uses ASCII word boundaries (`(?-u:\b)`) so the `regex` crate
//! can stay on its lazy DFA for any input, Unicode or not: matching is
//! linear in the input and never backtracks.

use std::borrow::Cow;

use regex::{Captures, Regex, RegexBuilder};

/// Every kind the built-in rules produce, in priority order (when two
/// detections cover the same text, the earlier kind names it).
pub const KINDS: &[&str] = &[
    "private_key",
    "aws_access_key",
    "aws_secret_key",
    "github_token",
    "anthropic_key",
    "openai_key",
    "slack_token",
    "stripe_key",
    "google_api_key",
    "gitlab_token",
    "huggingface_token",
    "npm_token",
    "sendgrid_key",
    "telegram_bot_token",
    "jwt",
    "url_credentials",
    "session_cookie",
    "password",
    "secret",
    "token",
    "api_key",
    "high_entropy",
];

/// ASCII word boundary.
const B: &str = r"(?-u:\b)";

/// Key names whose value is a credential, for `NAME=value` assignments.
/// The name must END with one of these (`max_tokens`, `tokenizer` do not);
/// `pass` only as a word of its own (`DB_PASS`, `smtp.pass`, not `bypass`).
pub(crate) const ASSIGN_KEY: &str = r"(?:[A-Za-z0-9_.\-]*(?i:password|passwd|passphrase|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|secret[_\-]?key|private[_\-]?key|auth[_\-]?key)|(?:[A-Za-z0-9_.\-]*[_.\-])?(?i:pass))";

/// Key names next to which a high-entropy value is treated as a secret.
pub(crate) const ENTROPY_KEY: &str = r"[A-Za-z0-9_.\-]*(?i:key|token|secret|passw|auth|credential|signature|salt|cookie|session|private|bearer)[A-Za-z0-9_.\-]*";

/// Prefixes of token formats, for tokens cut short at the end of a title.
const CUT_PREFIXES: &str = r"(?:AIza|AKIA|ASIA|gh[pousr]_|github_pat_|sk-|xox[abprse]-|xapp-|(?:sk|rk|pk)_(?:live|test)_|eyJ|gl(?:pat|dt|rt|ptt|cbt|soat|oas|ft|imt)-|hf_|npm_|SG\.)";

/// The kind of a token by its prefix (checked in this order); without one
/// of these prefixes a format rule reports its own kind (Telegram tokens).
const PREFIX_KINDS: &[(&str, &str)] = &[
    ("hf_", "huggingface_token"),
    ("npm_", "npm_token"),
    ("SG.", "sendgrid_key"),
    ("gl", "gitlab_token"),
    ("AIza", "google_api_key"),
    ("AKIA", "aws_access_key"),
    ("ASIA", "aws_access_key"),
    ("github_pat_", "github_token"),
    ("gh", "github_token"),
    ("sk-ant-", "anthropic_key"),
    ("sk-", "openai_key"),
    ("xox", "slack_token"),
    ("xapp-", "slack_token"),
    ("sk_", "stripe_key"),
    ("rk_", "stripe_key"),
    ("pk_", "stripe_key"),
    ("eyJ", "jwt"),
];

/// The arguments of a command up to the option that follows: words
/// separated by blanks, never past a pipe, `;` or `&`.
const ARGS: &str = r"(?:[ \t]+[^\s|;&]+)*?[ \t]+";

/// Separator of an assignment: `=`, `:`, `:=`, `=>` with blanks around.
const SEP: &str = r"[ \t]*(?::=|=>|=|:)[ \t]*";

/// The value of an assignment: double-quoted (with escapes), single-quoted
/// or bare. A quote may be left open by the `…` that ends a title cut short.
const VALUE: &str = r#"(?:"(?P<dq>[^"\\\n]*(?:\\.[^"\\\n]*)*)(?:"|…\z)|'(?P<sq>[^'\n]*)(?:'|…\z)|(?P<bare>[^\s"'`,;=][^\s"'`,;]*))"#;

/// How a rule decides whether a regex match is a secret, and which kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// Every match is a secret of the rule's kind.
    Always,
    /// `sk-…`: reject bare `sk-` strings that are not mixed-case with digits.
    OpenAi,
    /// Passwords in URLs: reject variable references and masks.
    UrlPassword,
    /// `NAME=value`: kind from the name, value checked against code/prose.
    Assignment,
    /// A value next to a key-like name: must look random.
    HighEntropy,
    /// A token format with a known prefix (`glpat-`, `hf_`, `npm_`, `SG.`,
    /// a Telegram bot id): kind from the prefix; masks are rejected.
    Format,
    /// A session cookie's value: must look random and hold a digit.
    Cookie,
    /// A password given to a command (`mysql -p…`, `curl -u user:…`,
    /// `sshpass -p …`, `--token …`): references and masks are rejected.
    Command,
    /// A password written in prose (`my password is …`): must mix letters
    /// with digits or symbols.
    Prose,
}

/// One compiled built-in rule.
#[derive(Debug)]
pub(crate) struct Rule {
    /// The kind reported (for [`Check::Assignment`] the kind is derived
    /// from the key name instead, for [`Check::Format`] from the prefix).
    pub kind: Cow<'static, str>,
    pub regex: Regex,
    pub check: Check,
}

impl Rule {
    /// The span to redact and its kind for one match, or `None` when the
    /// check rejects it.
    pub fn judge(&self, caps: &Captures) -> Option<(usize, usize, Cow<'static, str>)> {
        let value = match self.check {
            Check::Assignment | Check::Command => caps
                .name("dq")
                .or_else(|| caps.name("sq"))
                .or_else(|| caps.name("bare"))?,
            _ => caps.name("value").or_else(|| caps.get(0))?,
        };
        let v = value.as_str();
        let kind = match self.check {
            Check::Always => self.kind.clone(),
            Check::OpenAi => {
                if !openai_like(v) {
                    return None;
                }
                self.kind.clone()
            }
            Check::UrlPassword => {
                if is_placeholder(v) || names_no_value(v) {
                    return None;
                }
                self.kind.clone()
            }
            Check::Assignment => {
                let key = caps.name("key").map(|k| k.as_str()).unwrap_or("");
                let sep = caps.name("sep").map(|s| s.as_str()).unwrap_or("=");
                let quoted = caps.name("bare").is_none();
                // `secret: Uint8Array;`: a statement, not configuration.
                let statement = caps.name("semi").is_some() && sep.trim() != "=";
                if statement || !assignment_value_is_secret(key, sep, v, quoted) {
                    return None;
                }
                Cow::Borrowed(assignment_kind(key))
            }
            Check::Format => format_kind(v, self.kind.clone())?,
            Check::Cookie => {
                if !cookie_is_secret(v) {
                    return None;
                }
                self.kind.clone()
            }
            Check::Command => {
                if !command_value_is_secret(v) {
                    return None;
                }
                match caps.name("key") {
                    Some(flag) => Cow::Borrowed(assignment_kind(flag.as_str())),
                    None => self.kind.clone(),
                }
            }
            Check::Prose => {
                let end = value.start() + prose_password_len(v)?;
                return Some((value.start(), end, self.kind.clone()));
            }
            Check::HighEntropy => {
                // After `Bearer`/`Basic` the value is a credential by name.
                let key = caps.name("key").map_or("token", |k| k.as_str());
                if !looks_random(key, v) {
                    return None;
                }
                self.kind.clone()
            }
        };
        Some((value.start(), value.end(), kind))
    }
}

/// Compile the built-in rules, in priority order.
pub(crate) fn builtin() -> Result<Vec<Rule>, regex::Error> {
    let specs: Vec<(&'static str, String, Check)> = vec![
        (
            "private_key",
            // A complete block, or a header followed by base64 lines when the
            // END line was cut off (e.g. `head key.pem`). `\\n` covers keys
            // inside JSON-escaped text. The body may only hold what PEM
            // bodies hold (base64, `Proc-Type:`-style headers), so a header
            // quoted in code never reaches an END line far away.
            concat!(
                r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----",
                r"(?:[A-Za-z0-9+/=\s\\:,\-]*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----",
                r"|(?:(?:\s|\\[rn])+[A-Za-z0-9+/=:,\- ]{16,})+)"
            )
            .to_string(),
            Check::Always,
        ),
        (
            "aws_access_key",
            format!(r"{B}(?:AKIA|ASIA)[0-9A-Z]{{16}}{B}"),
            Check::Always,
        ),
        (
            "aws_secret_key",
            format!(
                r#"(?i:aws_?secret(?:_?access)?_?key|secret_?access_?key)["']?{SEP}["']?(?P<value>[A-Za-z0-9/+=]{{40}})(?:[^A-Za-z0-9/+=]|$)"#
            ),
            Check::Always,
        ),
        (
            "github_token",
            format!(r"{B}(?:gh[pousr]_[A-Za-z0-9]{{36,}}|github_pat_[A-Za-z0-9_]{{22,}}){B}"),
            Check::Always,
        ),
        (
            "anthropic_key",
            format!(r"{B}sk-ant-[A-Za-z0-9_\-]{{20,}}"),
            Check::Always,
        ),
        (
            "openai_key",
            format!(r"{B}sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{{20,}}"),
            Check::OpenAi,
        ),
        (
            "slack_token",
            format!(
                r"{B}(?:xox[abprse]-[A-Za-z0-9\-]{{10,}}|xapp-[0-9]-[A-Za-z0-9\-]{{10,}})|hooks\.slack\.com/(?:services|workflows|triggers)/(?P<value>[A-Za-z0-9_/\-]{{8,}})"
            ),
            Check::Always,
        ),
        (
            "stripe_key",
            format!(r"{B}(?:sk_live|rk_live|pk_live|sk_test|rk_test)_[A-Za-z0-9]{{10,}}"),
            Check::Always,
        ),
        (
            "google_api_key",
            format!(r"{B}AIza[0-9A-Za-z_\-]{{35}}"),
            Check::Always,
        ),
        (
            // GitLab (`glpat-`, deploy, runner, trigger… tokens), Hugging
            // Face, npm, SendGrid; the kind comes from the prefix. (Three
            // format rules rather than one: each keeps a fast literal or
            // anchored search, which one alternation of them loses.)
            "gitlab_token",
            format!(
                r"{B}(?P<value>gl(?:pat|dt|rt|ptt|cbt|soat|oas|ft|imt)-[A-Za-z0-9_\-]{{20,}}(?:\.[A-Za-z0-9_\-]+)*|hf_[A-Za-z0-9]{{30,}}{B}|npm_[A-Za-z0-9]{{36}}{B}|SG\.[A-Za-z0-9_\-]{{22}}\.[A-Za-z0-9_\-]{{43}})"
            ),
            Check::Format,
        ),
        (
            // Telegram bot tokens, also in API URLs (`/bot<id>:AA…/`).
            "telegram_bot_token",
            format!(r"(?:{B}|bot)(?P<value>[0-9]{{8,10}}:AA[A-Za-z0-9_\-]{{33}})"),
            Check::Format,
        ),
        (
            // A token of a known format cut short by the `…` that ends a
            // title (too short for its own rule); kind from the prefix.
            "google_api_key",
            format!(r"{B}(?P<value>{CUT_PREFIXES}[A-Za-z0-9_\-.]{{4,}})…\z"),
            Check::Format,
        ),
        (
            "jwt",
            format!(r"{B}eyJ[A-Za-z0-9_\-]{{10,}}\.[A-Za-z0-9_\-]{{10,}}\.[A-Za-z0-9_\-]*"),
            Check::Always,
        ),
        (
            "url_credentials",
            r#"[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@"'<>`]*:(?P<value>[^\s/@"'<>`]+)@[A-Za-z0-9\[]"#
                .to_string(),
            Check::UrlPassword,
        ),
        (
            // Session cookies by name, in `Cookie:`/`Set-Cookie:` headers,
            // `curl -b`, copied requests.
            "session_cookie",
            format!(
                r"{B}(?i:connect\.sid|sessionid|session_id|session|sid|phpsessid|jsessionid|asp\.net_sessionid|[A-Za-z0-9_\-]*_session|(?:__Secure-|__Host-)?(?:next-auth|authjs)\.session-token|remember_[A-Za-z0-9_]*)=(?P<value>[A-Za-z0-9%+/=._\-~:!*]{{16,}})"
            ),
            Check::Cookie,
        ),
        (
            // The kind is derived from the key name (password, secret,
            // token, api_key).
            "password",
            format!(r#"(?P<key>{ASSIGN_KEY})["']?(?P<sep>{SEP}){VALUE}(?P<semi>;)?"#),
            Check::Assignment,
        ),
        (
            // Environment entries written as a name and a value:
            // `- name: DB_PASSWORD` / `value: …` (Kubernetes), and
            // `{"name": "DB_PASSWORD", "value": "…"}` (ECS, Cloud Run).
            "password",
            format!(
                r#"{B}name["']?[ \t]*[:=][ \t]*["']?(?P<key>{ASSIGN_KEY})["']?[ \t]*(?:,[ \t]*|\r?\n\+?[ \t]*|[ \t]+)["']?value["']?(?P<sep>[ \t]*[:=][ \t]*){VALUE}"#
            ),
            Check::Assignment,
        ),
        (
            // Passwords on command lines: `mysql -p<pw>`, `sshpass -p <pw>`,
            // `curl -u user:<pw>`, `redis-cli -a <pw>`, `docker login -p`,
            // openssl `pass:<pw>`, keytool `-storepass <pw>`, `.netrc`
            // lines, and `--password <pw>`-style flags (kind from the flag).
            "password",
            format!(
                r#"(?:{B}(?:mysql|mariadb)(?:dump|admin|sh|-dump)?{ARGS}-p|{B}sshpass(?:[ \t]+-[A-Za-z])*[ \t]+-p[ \t]*|{B}curl{ARGS}(?:-u|--user)(?:[ \t]+|=)?["']?[^\s:"'$]*:|{B}redis-cli{ARGS}-a[ \t]+|{B}docker[ \t]+login{ARGS}(?:-p|--password)(?:[ \t]+|=)|-pass(?:in|out)?[ \t]+pass:|-(?:src|dest)?(?:store|key)pass[ \t]+|{B}machine[ \t]+[^\s]+[\s+]+login[ \t]+[^\s]+[\s+]+password[ \t]+|--(?P<key>[A-Za-z0-9\-]*(?i:password|passwd|token|secret|api-key|apikey))[ \t]+)(?:'(?P<sq>[^'\n]*)'|"(?P<dq>[^"\n]*)"|(?P<bare>[^\s'"`]+))"#
            ),
            Check::Command,
        ),
        (
            // `my password is …`, `the db password for staging was …`,
            // `log in with password …`: prompts, titles, notes.
            "password",
            format!(
                r#"(?i:{B}(?:password|passphrase|passwd)(?:[ \t]+(?:for|of|on|to)(?:[ \t]+[^\s]+){{1,4}}?)?[ \t]+(?:is|was)[ \t]*:?[ \t]+|{B}(?:with|using|use)[ \t]+(?:(?:the|a|my)[ \t]+)?(?:password|passphrase)[ \t]+)["'`]?(?P<value>[^\s"'`]+)"#
            ),
            Check::Prose,
        ),
        (
            "high_entropy",
            format!(
                r#"(?:(?P<key>{ENTROPY_KEY})["']?{SEP}|{B}(?i:bearer|basic)[ \t]+|{B}(?i:authorization)["']?{SEP}["']?[A-Za-z]+[ \t]+)["']?(?P<value>[A-Za-z0-9+/=_\-.~]{{20,}})"#
            ),
            Check::HighEntropy,
        ),
    ];
    specs
        .into_iter()
        .map(|(kind, pattern, check)| {
            Ok(Rule {
                kind: Cow::Borrowed(kind),
                regex: compile(&pattern)?,
                check,
            })
        })
        .collect()
}

/// Compile one pattern with the limits every rule shares.
pub(crate) fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .size_limit(16 * 1024 * 1024)
        .dfa_size_limit(16 * 1024 * 1024)
        .build()
}

/// The kind of a `NAME=value` assignment, from the name.
pub(crate) fn assignment_kind(key: &str) -> &'static str {
    let k = key.to_ascii_lowercase();
    if k.contains("pass") || k.ends_with("pwd") {
        "password"
    } else if k.ends_with("token") {
        "token"
    } else if k.contains("secret") {
        "secret"
    } else {
        "api_key"
    }
}

/// Values that stand for a secret without being one: variable references,
/// templates, masks, elisions, and markers we wrote ourselves.
fn is_placeholder(v: &str) -> bool {
    let v = v.trim();
    let lower = v.to_ascii_lowercase();
    v.is_empty()
        || v.starts_with('$')
        || v.starts_with("{{")
        || v.starts_with("%(")
        || v.starts_with('<')
        || v.starts_with("[REDACTED")
        // `%API_KEY%` (Windows).
        || v.len() > 2 && v.starts_with('%') && v.ends_with('%')
        || v.contains("***")
        || v.contains("••")
        // `sk-...`, `AKIA…MPLE`, `hf_xxxxxxxx`: a format shown with its body
        // left out (a long value ending in `…` is a secret cut short).
        || v.trim_end_matches(['.', '…']).len() <= 12 && (v.ends_with("...") || v.ends_with('…'))
        || v.trim_end_matches(['.', '…']).contains("...")
        || v.trim_end_matches(['.', '…']).contains('…')
        || lower.contains("xxxxxx")
        || v.chars()
            .all(|c| matches!(c, '*' | 'x' | 'X' | '.' | '•' | '-' | '#'))
}

/// Words that follow `password:` / `token =` in code, types and prose
/// rather than secrets, and words that name or fake a value (`test`,
/// `example`) rather than being one.
const NOT_SECRETS: &[&str] = &[
    "none",
    "null",
    "nil",
    "true",
    "false",
    "undefined",
    "str",
    "string",
    "bool",
    "boolean",
    "int",
    "number",
    "any",
    "object",
    "optional",
    "required",
    "bytes",
    "text",
    "varchar",
    "redacted",
    "hidden",
    "secret",
    "password",
    "passwd",
    "pass",
    "token",
    "empty",
    "unset",
    "default",
    "bearer",
    "basic",
    "test",
    "testing",
    "example",
    "sample",
    "dummy",
    "fake",
    "todo",
    "fixme",
    "tbd",
];

/// A word that is no value: [`NOT_SECRETS`], or an instruction to put one
/// (`your_api_key_here`, `REPLACE_ME`, `insert-key-here`).
fn names_no_value(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    NOT_SECRETS.contains(&lower.as_str())
        || lower.starts_with("your")
        || lower.starts_with("insert")
        || lower.contains("replace")
        || lower.contains("placeholder")
        || lower.contains("_here")
        || lower.contains("-here")
}

/// Words of messages: a quoted value holding one of them next to another
/// word is a message (`"Password is required"`, `"invalid token"`), not a
/// passphrase. Plain words (`is`, `the`) are not enough: passphrases have
/// them too.
const PROSE_WORDS: &[&str] = &[
    "must",
    "should",
    "can",
    "cannot",
    "can't",
    "could",
    "not",
    "do",
    "does",
    "don't",
    "doesn't",
    "did",
    "didn't",
    "has",
    "have",
    "your",
    "please",
    "enter",
    "required",
    "invalid",
    "incorrect",
    "wrong",
    "missing",
    "expired",
    "revoked",
    "denied",
    "unauthorized",
    "mismatch",
    "weak",
    "strong",
    "short",
    "too",
    "least",
    "characters",
    "match",
    "field",
    "failed",
    "provided",
    "found",
    "try",
    "again",
    "confirm",
    "forgot",
    "reset",
];

/// "Password", "token", "secret" and "key" in other languages: UI labels
/// (`"password": "Passwort"`).
const LABEL_WORDS: &[&str] = &[
    "passwort",
    "kennwort",
    "contraseña",
    "contrasena",
    "senha",
    "passe",
    "wachtwoord",
    "hasło",
    "haslo",
    "lösenord",
    "losenord",
    "adgangskode",
    "passord",
    "salasana",
    "parola",
    "heslo",
    "jelszó",
    "пароль",
    "パスワード",
    "密码",
    "密碼",
    "비밀번호",
    "jeton",
    "токен",
    "geheimnis",
    "schlüssel",
    "clave",
    "clé",
    "chiave",
];

/// A quoted value that is text rather than a credential: a sentence or a
/// label, a template (`"{}:{}"`, `"Bearer "`), or a validation rule list
/// (`'required|string|min:8'`).
fn is_text_not_credential(v: &str) -> bool {
    if v.trim() != v || v.contains('{') && v.contains('}') {
        return true;
    }
    let rule_list = v.contains('|')
        && v.split('|').all(|rule| {
            let name = rule.split(':').next().unwrap_or("");
            !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        });
    if rule_list {
        return true;
    }
    let words: Vec<String> = v
        .split(|c: char| c.is_whitespace() || c == '-')
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    if words.iter().any(|w| LABEL_WORDS.contains(&w.as_str())) {
        return true;
    }
    // A sentence.
    v.contains(' ')
        && (v.ends_with(['.', '!', '?', ':'])
            || words.iter().any(|w| PROSE_WORDS.contains(&w.as_str())))
}

/// Decide whether the value of `key<sep>value` is a secret worth redacting.
pub(crate) fn assignment_value_is_secret(key: &str, sep: &str, v: &str, quoted: bool) -> bool {
    if v.chars().count() < 4 || is_placeholder(v) || names_no_value(v) {
        return false;
    }
    if quoted {
        return !is_text_not_credential(v);
    }
    // Unquoted: tell configuration text from code and prose.
    if v.contains(['(', ')', '[', ']', '{', '}', '<', '>', '\\'])
        || v.starts_with(['&', ':', '.'])
        || is_path(v)
    {
        return false;
    }
    let op = sep.trim();
    let spaced = sep.len() != op.len();
    let digits_only = v.chars().all(|c| c.is_ascii_digit());
    let has_digit = v.chars().any(|c| c.is_ascii_digit());
    let has_symbol = v
        .chars()
        .any(|c| !c.is_ascii_alphanumeric() && c != '_' && c != '-');
    let identifier = v
        .chars()
        .all(|c| c.is_ascii_alphabetic() || c == '_' || c == '-');
    if op == "=" && !spaced {
        // Environment/config text or a `--flag=value`: a value unless it is
        // a bare word or an expression passed to a lower-case name
        // (`f(api_key=api_key)`, `password=config.password`). In env text
        // (`DB_PASSWORD=maple.Blue64`) nothing is code.
        let env_name = !key.chars().any(|c| c.is_ascii_lowercase());
        return env_name || !identifier && !is_code_reference(v);
    }
    // `password: !Ref DbPassword`, `token: *default`: YAML tags and aliases.
    if op == ":" && v.starts_with(['!', '*']) {
        return false;
    }
    // `POSTGRES_PASSWORD: changeme` (compose, k8s): an environment name
    // maps to a literal; code would use a camelCase name there.
    let env_name = !key.chars().any(|c| c.is_ascii_lowercase());
    if env_name
        && op == ":"
        && v.chars().any(|c| c.is_ascii_lowercase())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        return true;
    }
    if is_code_reference(v) {
        return false;
    }
    // `name: value`, `name = value`: YAML/TOML, but also type annotations,
    // code and prose. Only values with digits or symbols count.
    if digits_only {
        return false;
    }
    has_digit || has_symbol
}

/// Code that reads a value rather than a value: `self.token`,
/// `process.env.SECRET`, `this.#privateKey`, `user?.password`,
/// `*details.CorrelationToken`, `TokenKind::Ident`, `&args.password`.
/// A part like `Blue64` (a capitalised word and a number) is how passwords
/// are made, not code: `maple.Blue64` is a value.
fn is_code_reference(v: &str) -> bool {
    let deref = v.starts_with(['*', '&']);
    let path = v
        .trim_start_matches(['*', '&'])
        .trim_end_matches(['!', '?'])
        .replace("?.", ".")
        .replace("!.", ".")
        .replace("::", ".")
        .replace("->", ".");
    let parts: Vec<&str> = path.split('.').collect();
    let identifier = |p: &&str| {
        let p = p.strip_prefix(['#', '$', '@']).unwrap_or(p);
        let mut cs = p.chars();
        matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
            && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    };
    if !parts.iter().all(identifier) {
        return false;
    }
    if parts.len() == 1 {
        return deref;
    }
    !parts.iter().any(|p| is_word_and_number(p))
}

/// `Blue64`, `Cactus3239`: a capitalised word followed by two or more
/// digits.
fn is_word_and_number(p: &str) -> bool {
    let word = p.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = p.len() - word.len();
    let mut cs = word.chars();
    digits >= 2
        && word.len() >= 3
        && cs.next().is_some_and(|c| c.is_ascii_uppercase())
        && cs.all(|c| c.is_ascii_lowercase())
}

/// A file path (`/work/main`, `~/.config/acme/token`, `./certs/dev.key`):
/// made of path characters, with no random-looking part.
fn is_path(v: &str) -> bool {
    let rest = ["/", "~/", "./", "../"]
        .iter()
        .find_map(|p| v.strip_prefix(p));
    let Some(rest) = rest else {
        return false;
    };
    !rest.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '~'))
        && rest.split('/').all(|part| {
            let classes = [
                part.chars().any(|c| c.is_ascii_uppercase()),
                part.chars().any(|c| c.is_ascii_lowercase()),
                part.chars().any(|c| c.is_ascii_digit()),
            ];
            part.len() < 16 || classes.iter().filter(|&&c| c).count() < 3
        })
}

/// The kind of a token found by its prefix (see [`PREFIX_KINDS`]; the
/// rule's own kind without one), unless its body is a mask
/// (`glpat-xxxxxxxxxxxxxxxxxxxx`) or has fewer than two of upper case,
/// lower case and digits.
fn format_kind(v: &str, fallback: Cow<'static, str>) -> Option<Cow<'static, str>> {
    let (kind, body) = match PREFIX_KINDS.iter().find(|(p, _)| v.starts_with(p)) {
        Some(&(_, "gitlab_token")) => (
            Cow::Borrowed("gitlab_token"),
            v.split_once('-').map_or(v, |(_, b)| b),
        ),
        Some(&(prefix, kind)) => (Cow::Borrowed(kind), &v[prefix.len()..]),
        // `<bot id>:AA<body>`.
        None => (fallback, v.split_once(":AA").map_or(v, |(_, b)| b)),
    };
    let classes = [
        body.chars().any(|c| c.is_ascii_uppercase()),
        body.chars().any(|c| c.is_ascii_lowercase()),
        body.chars().any(|c| c.is_ascii_digit()),
    ];
    (!is_placeholder(body) && classes.iter().filter(|&&c| c).count() >= 2).then_some(kind)
}

/// A session cookie's value: long, random-looking and holding a digit
/// (`session=requests.Session` is code).
fn cookie_is_secret(v: &str) -> bool {
    !is_placeholder(v)
        && v.chars().any(|c| c.is_ascii_digit())
        && !is_code_reference(v)
        && shannon_entropy(v) >= 3.0
}

/// A password given to a command: not a reference or mask, not the next
/// option, not a word that names no value.
fn command_value_is_secret(v: &str) -> bool {
    v.chars().count() >= 3 && !v.starts_with('-') && !is_placeholder(v) && !names_no_value(v)
}

/// The length of a password written in prose (`is hunter2-Blue!7,` →
/// without the comma), if the word after `password is` is one: letters
/// mixed with digits or symbols, not code or a reference.
fn prose_password_len(v: &str) -> Option<usize> {
    let word = v.trim_end_matches(['.', ',', ';', ':', ')', '?']);
    let letters = word.chars().any(|c| c.is_alphabetic());
    let digits = word.chars().any(|c| c.is_ascii_digit());
    let symbols = word.chars().any(|c| "!@#$%^&*+=~".contains(c));
    let secret = word.chars().count() >= 6
        && letters
        && (digits || symbols)
        && !word.contains(['(', ')', '[', ']', '{', '}', '<', '>'])
        && !is_placeholder(word)
        && !names_no_value(word);
    secret.then_some(word.len())
}

/// `sk-…` strings: prefixed project/service keys always; a bare `sk-` only
/// with upper case, lower case and digits (real keys are random base62).
fn openai_like(v: &str) -> bool {
    if v.starts_with("sk-ant-") {
        return false;
    }
    if ["sk-proj-", "sk-svcacct-", "sk-admin-"]
        .iter()
        .any(|p| v.starts_with(p))
    {
        return true;
    }
    let body = &v[3..];
    body.len() >= 32
        && body.chars().any(|c| c.is_ascii_uppercase())
        && body.chars().any(|c| c.is_ascii_lowercase())
        && body.chars().any(|c| c.is_ascii_digit())
}

/// Shannon entropy of `s` in bits per character.
pub fn shannon_entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in s.bytes() {
        counts[b as usize] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Whether a value next to the key-like name `key` looks like a random
/// credential rather than an identifier, path, hash or UUID.
pub(crate) fn looks_random(key: &str, v: &str) -> bool {
    if v.len() < 20 || is_placeholder(v) {
        return false;
    }
    if v.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return hex_is_secret(key, v);
    }
    // Paths and dotted names; `name=value` pairs (a cookie header's
    // content, not one credential) unless `=` only pads base64.
    if v.matches('/').count() >= 2
        || v.starts_with('/')
        || is_code_reference(v)
        || v.trim_end_matches('=').contains('=')
    {
        return false;
    }
    let upper = v.chars().any(|c| c.is_ascii_uppercase());
    let lower = v.chars().any(|c| c.is_ascii_lowercase());
    let digit = v.chars().any(|c| c.is_ascii_digit());
    let classes = usize::from(upper) + usize::from(lower) + usize::from(digit);
    // Slugs and identifiers: words joined by `-`/`_` without digits.
    if classes < 2 || !digit && v.contains(['-', '_']) {
        return false;
    }
    shannon_entropy(v) >= 3.5
}

/// Hex digits a hex value needs to be a secret when its key does not say
/// secret/key/token/password: more than a SHA-1 commit hash.
const HEX_HASH_MAX: usize = 40;

/// A hex value (digits and `-` only) next to the key-like name `key`: keys
/// and secrets are often hex (`ENCRYPTION_KEY=<64 hex>`), but so are UUIDs,
/// commit hashes and checksums. A secret unless it is UUID-shaped, its key
/// names a hash (`sha`, `hash`, `commit`, `checksum`, `digest`, `etag`,
/// `rev`), or it is no longer than a commit hash and its key does not say
/// secret, key, token or password. It must also look random (both digits
/// and letters, no long repeats).
fn hex_is_secret(key: &str, v: &str) -> bool {
    if is_uuid(v) {
        return false;
    }
    if key_words(key).any(|w| names_a_hash(&w)) {
        return false;
    }
    let digits = v.chars().filter(char::is_ascii_hexdigit).count();
    let lower = key.to_ascii_lowercase();
    let says_secret = ["secret", "key", "token", "passw"]
        .iter()
        .any(|w| lower.contains(w));
    if digits <= HEX_HASH_MAX && !says_secret {
        return false;
    }
    v.chars().any(|c| c.is_ascii_digit())
        && v.chars().any(|c| c.is_ascii_alphabetic())
        && shannon_entropy(v) >= 3.0
}

/// The words of a key name, lower case: split at `_`, `-`, `.` and where
/// camelCase turns upper (`gitCommitSHA` → `git`, `commit`, `sha`).
fn key_words(key: &str) -> impl Iterator<Item = String> + '_ {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            words.push(std::mem::take(&mut word));
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower {
            words.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        word.push(c.to_ascii_lowercase());
    }
    words.push(word);
    words.into_iter().filter(|w| !w.is_empty())
}

/// `sha256`, `hash`, `commits`, `checksum`, `digest`, `etag`, `rev`,
/// `revision`: a word that says the value is a hash.
fn names_a_hash(word: &str) -> bool {
    let w = word.trim_end_matches(|c: char| c.is_ascii_digit());
    let w = w.strip_suffix("es").filter(|s| *s == "hash").unwrap_or(w);
    let w = w.strip_suffix('s').unwrap_or(w);
    matches!(
        w,
        "sha" | "hash" | "commit" | "checksum" | "digest" | "etag" | "rev" | "revision"
    )
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(v: &str) -> bool {
    let parts: Vec<&str> = v.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_constant_and_random() {
        assert_eq!(shannon_entropy("aaaaaaaa"), 0.0);
        assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-9);
        assert!(looks_random("key", "Zq8vN3kLp0Wx7TbR2mYc"));
    }

    #[test]
    fn not_random() {
        for (k, v) in [
            ("session", "0123456789abcdef0123456789abcdef01234567"),
            ("session_key", "550e8400-e29b-41d4-a716-446655440000"),
            ("cache_key", "src/commands/session.rs"),
            ("storage_key", "user-preferences-storage-key"),
            ("token", "aaaaaaaaaaaaaaaaaaaaaaaa"),
            ("secret", "process.env.SECRET_TOKEN"),
        ] {
            assert!(!looks_random(k, v), "{k}: {v}");
        }
    }

    #[test]
    fn hex_next_to_key_names() {
        let h32 = "9f86d081884c7d659a2feaa0c55ad015";
        let h40 = "4e1243bd22c66e76c2ba9eddc1f91394e57f9f83";
        let h64 = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
        // Keys and secrets in hex.
        assert!(looks_random("ENCRYPTION_KEY", h64));
        assert!(looks_random("HMAC_SIGNING_KEY", h32));
        assert!(looks_random("session_token", h40));
        assert!(looks_random("session", h64), "long hex next to session");
        // Commit hashes, checksums, UUIDs.
        assert!(!looks_random("session", h40), "40 hex, key says nothing");
        assert!(!looks_random("auth_commit", h40));
        assert!(!looks_random("signing_key_sha256", h64));
        assert!(!looks_random("cookie_checksum", h64));
        assert!(!looks_random("KEY_DIGEST", h64));
        assert!(!looks_random("session_etag", h64));
        assert!(!looks_random("secret_rev", h40));
        assert!(!looks_random(
            "api_key",
            "550e8400-e29b-41d4-a716-446655440000"
        ));
        assert!(!looks_random("gitCommitSHA", h64));
        assert!(!looks_random("content_hashes", h64));
        // Words that merely contain a hash word are not hash names.
        assert!(looks_random("SHARED_SECRET", h32));
        assert!(looks_random("PREVIEW_TOKEN", h32));
        // Not random enough.
        assert!(!looks_random("api_key", &"ab".repeat(20)));
        assert!(!looks_random("api_key", &"1".repeat(32)));
    }

    #[test]
    fn assignment_values() {
        assert!(assignment_value_is_secret(
            "PASSWORD", "=", "hunter2", false
        ));
        assert!(assignment_value_is_secret(
            "PASSWORD", "=", "letmein", false
        ));
        assert!(!assignment_value_is_secret(
            "api_key", "=", "api_key", false
        ));
        assert!(assignment_value_is_secret(
            "password", ": ", "hunter2", false
        ));
        assert!(!assignment_value_is_secret("token", ": ", "Guide", false));
        assert!(!assignment_value_is_secret("token", ": ", "string", false));
        assert!(!assignment_value_is_secret(
            "token",
            " = ",
            "self.token",
            false
        ));
        assert!(!assignment_value_is_secret(
            "token",
            " = ",
            "get_token()",
            false
        ));
        assert!(!assignment_value_is_secret(
            "Token", ": ", "gho_****", false
        ));
        assert!(!assignment_value_is_secret(
            "max_token",
            " = ",
            "4096",
            false
        ));
        assert!(!assignment_value_is_secret("token", ": ", "&str", false));
        assert!(assignment_value_is_secret(
            "secret",
            ": ",
            "anything at all",
            true
        ));
        assert!(!assignment_value_is_secret(
            "secret",
            ": ",
            "${SECRET}",
            true
        ));
        assert!(!assignment_value_is_secret(
            "secret",
            ": ",
            "<your-secret>",
            true
        ));
        // Environment text is literal; code reads values.
        for (key, sep, v) in [
            ("DB_PASSWORD", "=", "maple.Blue64"),
            ("POSTGRES_PASSWORD", ": ", "changeme"),
            ("password", "=", "Velvet3816.falcon"),
            ("password", ": ", "maple.Blue64"),
        ] {
            assert!(
                assignment_value_is_secret(key, sep, v, false),
                "{key}{sep}{v}"
            );
        }
        for (key, sep, v) in [
            ("password", "=", "config.password"),
            ("privateKey", ": ", "this.#privateKey"),
            ("correlationToken", " = ", "*details.CorrelationToken"),
            ("password", ": ", "!Ref"),
            ("OLDPWD", "=", "/home/dev/src"),
            ("MAX_TOKEN", ": ", "4096"),
            ("password", "=", "test"),
        ] {
            assert!(
                !assignment_value_is_secret(key, sep, v, false),
                "{key}{sep}{v}"
            );
        }
        assert!(!assignment_value_is_secret(
            "password",
            ": ",
            "Password is required",
            true
        ));
    }

    #[test]
    fn code_references() {
        for code in [
            "self.token",
            "this.#privateKey",
            "*details.CorrelationToken",
            "&args.password",
            "user?.password",
            "process.env.DB_PASSWORD!",
            "TokenKind::Ident",
            "*default_password",
        ] {
            assert!(is_code_reference(code), "{code}");
        }
        for value in [
            "maple.Blue64",
            "Cactus3239.nimbus",
            "hunter2",
            "a.b-c",
            "token",
        ] {
            assert!(!is_code_reference(value), "{value}");
        }
    }

    #[test]
    fn quoted_text_that_is_no_credential() {
        for text in [
            "Password is required",
            "invalid token",
            "Passwords don't match",
            "The token field is required.",
            "Passwort",
            "Mot de passe",
            "API-Schlüssel",
            "Bearer ",
            "{}:{}",
            "required|string|min:8|confirmed",
        ] {
            assert!(is_text_not_credential(text), "{text}");
        }
        for secret in [
            "my client secret value",
            "value that is secret",
            "correct horse battery staple",
            "Tr0ub4dor&3",
            "Xy7|pQ2!w",
        ] {
            assert!(!is_text_not_credential(secret), "{secret}");
        }
    }

    #[test]
    fn paths_and_placeholders() {
        assert!(is_path("/work/main"));
        assert!(is_path("~/.config/acme/token"));
        assert!(!is_path("/9j4Kq8ZrB2mYcWx7TbR2mYcQ4sD"));
        for v in [
            "sk-...",
            "AKIA…MPLE",
            "hf_xxxxxxxxxxxxxxxx",
            "%API_KEY%",
            "********",
        ] {
            assert!(is_placeholder(v), "{v}");
        }
        // A long value ending in `…` is a secret cut short, not an elision.
        assert!(!is_placeholder(
            "SG.enxaty6AQVQuIvZThP31DJ.XVHzJn18aGVXzve…"
        ));
    }

    #[test]
    fn token_formats_by_prefix() {
        let kind = |v: &str| format_kind(v, Cow::Borrowed("telegram_bot_token"));
        assert_eq!(
            kind("glpat-Zq8vN3kLp0Wx7TbR2mYc").as_deref(),
            Some("gitlab_token")
        );
        assert_eq!(
            kind("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").as_deref(),
            Some("huggingface_token")
        );
        assert_eq!(
            kind("7123456789:AAHk3Zq8vN3kLp0Wx7TbR2mYcQ4sD9fG1hJ").as_deref(),
            Some("telegram_bot_token")
        );
        assert_eq!(kind("AIzacWNlIzV").as_deref(), Some("google_api_key"));
        assert_eq!(kind("glpat-xxxxxxxxxxxxxxxxxxxx"), None);
        assert_eq!(kind("npm_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"), None);
        assert_eq!(kind("7123456789:AAxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), None);
    }

    #[test]
    fn command_and_prose_passwords() {
        assert!(command_value_is_secret("S3cret"));
        for v in ["$MYSQL_PWD", "<password>", "--port", "password", "xx"] {
            assert!(!command_value_is_secret(v), "{v}");
        }
        assert_eq!(
            prose_password_len("hunter2-Blue!7,"),
            Some("hunter2-Blue!7".len())
        );
        for v in ["required", "incorrect.", "8", "sha256(x)", "$DB_PASSWORD"] {
            assert_eq!(prose_password_len(v), None, "{v}");
        }
    }

    #[test]
    fn kinds_from_names() {
        assert_eq!(assignment_kind("DB_PASSWORD"), "password");
        assert_eq!(assignment_kind("GITHUB_TOKEN"), "token");
        assert_eq!(assignment_kind("client_secret"), "secret");
        assert_eq!(assignment_kind("X_API_KEY"), "api_key");
        assert_eq!(assignment_kind("REDIS_PASS"), "password");
        let key = compile(&format!("^{ASSIGN_KEY}$")).unwrap();
        for name in ["DB_PASS", "smtp.pass", "PASS", "MYSQL_ROOT_PWD"] {
            assert!(key.is_match(name), "{name}");
        }
        for name in ["bypass", "compass", "PASSAGE", "max_tokens"] {
            assert!(!key.is_match(name), "{name}");
        }
    }

    #[test]
    fn openai_shapes() {
        assert!(openai_like("sk-proj-abcdefghijklmnopqrstuvwxyz"));
        assert!(openai_like("sk-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7c"));
        assert!(!openai_like("sk-this-is-not-a-key-at-all-really-no"));
        assert!(!openai_like("sk-ant-api03-abcdefghijklmnopqrstuvwxyz"));
    }

    #[test]
    fn builtin_rules_compile() {
        let rules = builtin().unwrap();
        for r in &rules {
            assert!(KINDS.contains(&r.kind.as_ref()), "{}", r.kind);
        }
    }
}
