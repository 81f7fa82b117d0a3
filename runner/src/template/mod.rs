//! `huddle template [--check]`: the files generated from the domains' declarations:
//! template.yaml's per-domain blocks (from each registered domain's `routes()`, `consumes()` and
//! its `domains/<name>/deploy.toml`; the rest of template.yaml, the platform, stays
//! hand-written) and the OpenAPI contract, openapi.json. Every generated file is one
//! [`Generated`] of [`generated_files`], checked and written like the others.

mod manifest;
mod render;

pub use render::function_id;

use crate::Domain;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The command that regenerates the files, as error messages name it.
pub const COMMAND: &str = "cargo run -p huddle-runner -- template";

/// A file as the generator would write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// Relative to the repository root.
    pub path: PathBuf,
    pub contents: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {0}: {1} (run from the repository root, or pass --root)")]
    Read(PathBuf, std::io::Error),
    #[error("cannot write {0}: {1}")]
    Write(PathBuf, std::io::Error),
    #[error("{0}")]
    Manifest(String),
    #[error("{0}")]
    Declaration(String),
    #[error("template.yaml: {0}")]
    Layout(String),
}

/// Every generated file of the repository at `root`, for `domains` (`huddle_runner::domains`).
pub fn generated_files(root: &Path, domains: &[Arc<dyn Domain>]) -> Result<Vec<Generated>, TemplateError> {
    let contract = Generated {
        path: PathBuf::from(crate::contract::CONTRACT_FILE),
        contents: crate::contract::contract_document(domains),
    };
    Ok(vec![template_yaml(root, domains)?, contract])
}

/// Writes each file that differs; answers the paths written.
pub fn write(root: &Path, files: &[Generated]) -> Result<Vec<PathBuf>, TemplateError> {
    let mut written = Vec::new();
    for file in files {
        if stale(root, file)?.is_some() {
            let path = root.join(&file.path);
            std::fs::write(&path, &file.contents).map_err(|error| TemplateError::Write(path, error))?;
            written.push(file.path.clone());
        }
    }
    Ok(written)
}

/// For each file whose checked-in text differs from `files`, a message naming where and the
/// command that regenerates it.
pub fn check(root: &Path, files: &[Generated]) -> Result<Vec<String>, TemplateError> {
    let mut messages = Vec::new();
    for file in files {
        messages.extend(stale(root, file)?);
    }
    Ok(messages)
}

fn stale(root: &Path, file: &Generated) -> Result<Option<String>, TemplateError> {
    let path = root.join(&file.path);
    let current = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(TemplateError::Read(path, error)),
    };
    Ok(difference(&file.path, &current, &file.contents))
}

/// The lines where `current` and `generated` differ (between their common first and last
/// lines), a few of each, and the command to run; `None` when they are the same.
pub fn difference(path: &Path, current: &str, generated: &str) -> Option<String> {
    if current == generated {
        return None;
    }
    const SHOWN: usize = 12;
    let current: Vec<&str> = current.lines().collect();
    let generated: Vec<&str> = generated.lines().collect();
    let same_start = current.iter().zip(&generated).take_while(|(a, b)| a == b).count();
    let same_end = current[same_start..]
        .iter()
        .rev()
        .zip(generated[same_start..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let mut message = format!(
        "{} is not what `{COMMAND}` generates, from line {}; run it and commit the result\n",
        path.display(),
        same_start + 1
    );
    for (sign, lines) in [("-", &current), ("+", &generated)] {
        let differing = &lines[same_start..lines.len() - same_end];
        for line in differing.iter().take(SHOWN) {
            message.push_str(&format!("{sign} {line}\n"));
        }
        if differing.len() > SHOWN {
            message.push_str(&format!("{sign} ({} more lines)\n", differing.len() - SHOWN));
        }
    }
    // The same lines, yet different text.
    if current == generated {
        message.push_str("(the files differ in line endings or a final newline)\n");
    }
    Some(message)
}

const TEMPLATE: &str = "template.yaml";

/// template.yaml with each domain's marked regions replaced by what its declaration and
/// manifest say; a domain without regions yet gets them at the end of Resources and Outputs.
fn template_yaml(root: &Path, domains: &[Arc<dyn Domain>]) -> Result<Generated, TemplateError> {
    let path = root.join(TEMPLATE);
    let mut text = std::fs::read_to_string(&path).map_err(|error| TemplateError::Read(path, error))?;
    let platform =
        render::Platform { default_timeout: globals_timeout(&text)?, media_bucket: media_bucket(domains)? };
    // A domain no longer registered leaves no block behind.
    let registered: Vec<&str> = domains.iter().map(|domain| domain.name()).collect();
    let unregistered: Vec<String> = marked_domains(&text)
        .into_iter()
        .filter(|marked| !registered.contains(marked))
        .map(str::to_owned)
        .collect();
    for domain in unregistered {
        text = remove(&text, Section::Resources, &domain)?;
        text = remove(&text, Section::Outputs, &domain)?;
    }
    for domain in domains {
        let manifest = manifest_of(root, domain.name())?;
        let resources = render::resources(domain.as_ref(), &manifest, &platform)?;
        text = splice(&text, Section::Resources, domain.name(), &resources)?;
        text = splice(&text, Section::Outputs, domain.name(), &render::outputs(domain.as_ref()))?;
    }
    Ok(Generated { path: PathBuf::from(TEMPLATE), contents: text })
}

/// The media bucket's logical id: the bucket of the one domain that takes uploads, if any does.
fn media_bucket(domains: &[Arc<dyn Domain>]) -> Result<Option<String>, TemplateError> {
    let taking: Vec<&str> = domains
        .iter()
        .filter(|domain| domain.upload_prefix().is_some())
        .map(|domain| domain.name())
        .collect();
    match taking.as_slice() {
        [] => Ok(None),
        [domain] => Ok(Some(render::bucket_id(domain))),
        several => Err(TemplateError::Declaration(format!(
            "one domain owns the media bucket and takes uploads, not {}",
            several.join(", ")
        ))),
    }
}

fn manifest_of(root: &Path, domain: &str) -> Result<manifest::DeployManifest, TemplateError> {
    let path = root.join("domains").join(domain).join("deploy.toml");
    let text = std::fs::read_to_string(&path).map_err(|error| TemplateError::Read(path.clone(), error))?;
    manifest::DeployManifest::parse(&text)
        .map_err(|error| TemplateError::Manifest(format!("{}: {error}", path.display())))
}

/// How each domain's opening marker begins, before the domain's name.
const OPENING_MARKER_START: &str = "# --- generated by `huddle template` from domains/";

pub(crate) fn opening_marker(domain: &str) -> String {
    format!("{OPENING_MARKER_START}{domain}: edit the declaration or deploy.toml, not this ---")
}

pub(crate) fn closing_marker(domain: &str) -> String {
    format!("# --- end of generated {domain} ---")
}

#[derive(Clone, Copy)]
enum Section {
    Resources,
    Outputs,
}

impl Section {
    fn heading(self) -> &'static str {
        match self {
            Self::Resources => "Resources:",
            Self::Outputs => "Outputs:",
        }
    }

    /// What comes between one entry of the section and the next: resources are parted by a
    /// blank line, outputs are not.
    fn separator(self) -> &'static str {
        match self {
            Self::Resources => "\n\n",
            Self::Outputs => "\n",
        }
    }
}

/// The byte range of `section`'s body: from after its heading line to the next top-level key
/// (or the end).
fn section_range(text: &str, section: Section) -> Result<Range<usize>, TemplateError> {
    let heading = format!("\n{}\n", section.heading());
    let start = text
        .find(&heading)
        .map(|at| at + heading.len())
        .ok_or_else(|| TemplateError::Layout(format!("no top-level {}", section.heading())))?;
    let mut end = text.len();
    let mut offset = start;
    for line in text[start..].split_inclusive('\n') {
        if line.starts_with(|first: char| !first.is_whitespace() && first != '#') {
            end = offset;
            break;
        }
        offset += line.len();
    }
    Ok(start..end)
}

/// The byte range of `domain`'s marked region of `section`, markers and their line ends
/// included, if it has one.
fn region(text: &str, section: Section, domain: &str) -> Result<Option<Range<usize>>, TemplateError> {
    let range = section_range(text, section)?;
    let body = &text[range.clone()];
    let opening = format!("  {}\n", opening_marker(domain));
    let closing = format!("  {}\n", closing_marker(domain));
    let located = |marker: &str| body.match_indices(marker).map(|(at, _)| at).collect::<Vec<_>>();
    match (located(&opening).as_slice(), located(&closing).as_slice()) {
        ([open], [close]) if open < close => {
            Ok(Some(range.start + open..range.start + close + closing.len()))
        }
        ([], []) => Ok(None),
        _ => Err(TemplateError::Layout(format!(
            "{} needs exactly one `{}` line and, after it, one `{}` line for domains/{domain}",
            section.heading(),
            opening.trim(),
            closing.trim()
        ))),
    }
}

/// `text` with `block` (markers included) in place of `domain`'s marked region of `section`,
/// or appended to the section when it has none.
fn splice(text: &str, section: Section, domain: &str, block: &str) -> Result<String, TemplateError> {
    match region(text, section, domain)? {
        Some(region) => Ok(format!("{}{block}{}", &text[..region.start], &text[region.end..])),
        None => {
            let end = section_range(text, section)?.end;
            let before = text[..end].trim_end_matches('\n');
            let after = &text[end..];
            let gap = if after.is_empty() { "" } else { "\n" };
            Ok(format!("{before}{}{block}{gap}{after}", section.separator()))
        }
    }
}

/// `text` without `domain`'s marked region of `section` (and the separator before it), if any.
fn remove(text: &str, section: Section, domain: &str) -> Result<String, TemplateError> {
    Ok(match region(text, section, domain)? {
        Some(region) => {
            // The separator ends the line before it, then adds the lines that part entries.
            let parting = section.separator().len() - 1;
            let before = &text[..region.start];
            let before = if before.ends_with(section.separator()) {
                &before[..before.len() - parting]
            } else {
                before
            };
            format!("{before}{}", &text[region.end..])
        }
        None => text.to_owned(),
    })
}

/// The domains whose generated regions `text` holds, each once.
fn marked_domains(text: &str) -> Vec<&str> {
    let mut domains: Vec<&str> = text
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix(OPENING_MARKER_START))
        .filter_map(|rest| rest.split_once(':').map(|(domain, _)| domain))
        .collect();
    domains.sort_unstable();
    domains.dedup();
    domains
}

/// The Globals' function Timeout, which the domain queues' visibility timeouts follow.
fn globals_timeout(text: &str) -> Result<u32, TemplateError> {
    let globals = text
        .split_once("\nGlobals:\n  Function:\n")
        .map(|(_, rest)| rest)
        .ok_or_else(|| TemplateError::Layout("no Globals: Function:".into()))?;
    globals
        .lines()
        .take_while(|line| line.starts_with("    ") || line.trim().is_empty())
        .find_map(|line| line.strip_prefix("    Timeout: "))
        .and_then(|value| value.trim().parse().ok())
        .ok_or_else(|| TemplateError::Layout("Globals' Function has no Timeout in seconds".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Transform: x\nResources:\n  A:\n    Type: X\n\n  # --- generated by `huddle template` from domains/d: edit the declaration or deploy.toml, not this ---\n  Old: 1\n  # --- end of generated d ---\n\nOutputs:\n  O:\n    Value: 1\n";

    fn block(body: &str) -> String {
        format!("  {}\n  {body}\n  {}\n", opening_marker("d"), closing_marker("d"))
    }

    #[test]
    fn a_marked_region_is_replaced_and_nothing_else() {
        let text = splice(TEXT, Section::Resources, "d", &block("New: 2")).unwrap();
        assert_eq!(text, TEXT.replace("  Old: 1\n", "  New: 2\n"));
    }

    #[test]
    fn a_domain_without_a_region_gets_one_at_the_end_of_the_section() {
        let text = splice(TEXT, Section::Outputs, "d", &block("DOut: 3")).unwrap();
        assert!(text.ends_with(&format!("    Value: 1\n{}", block("DOut: 3"))), "{text}");
        let text = splice(
            "Transform: x\nResources:\n  A: 1\n\nOutputs:\n  O: 1\n",
            Section::Resources,
            "d",
            &block("B: 2"),
        )
        .unwrap();
        assert_eq!(
            text,
            format!("Transform: x\nResources:\n  A: 1\n\n{}\nOutputs:\n  O: 1\n", block("B: 2"))
        );
    }

    #[test]
    fn an_unregistered_domains_regions_go_as_they_came() {
        let bare = "Transform: x\nResources:\n  A: 1\n\nOutputs:\n  O: 1\n";
        let added = splice(bare, Section::Resources, "d", &block("B: 2")).unwrap();
        let added = splice(&added, Section::Outputs, "d", &block("DOut: 3")).unwrap();
        assert_eq!(marked_domains(&added), ["d"]);
        let removed = remove(&added, Section::Resources, "d").unwrap();
        assert_eq!(remove(&removed, Section::Outputs, "d").unwrap(), bare);
    }

    #[test]
    fn a_region_missing_its_closing_marker_is_refused() {
        let broken = TEXT.replace("  # --- end of generated d ---\n", "");
        assert!(matches!(
            splice(&broken, Section::Resources, "d", &block("x")),
            Err(TemplateError::Layout(_))
        ));
    }

    #[test]
    fn a_difference_names_its_line_and_the_command() {
        let message = difference(Path::new("template.yaml"), "a\nb\nc\n", "a\nB\nc\n").expect("they differ");
        assert!(message.contains("line 2") && message.contains(COMMAND), "{message}");
        assert!(message.ends_with("\n- b\n+ B\n"), "only the differing lines: {message}");
        assert_eq!(difference(Path::new("template.yaml"), "a\n", "a\n"), None);
        assert!(difference(Path::new("t"), "a\n", "a").is_some(), "a final newline counts");
    }

    #[test]
    fn the_queue_visibility_follows_the_globals_timeout() {
        let text = "x: 1\nGlobals:\n  Function:\n    MemorySize: 256\n    Timeout: 30\n    LoggingConfig:\n";
        assert_eq!(globals_timeout(text).unwrap(), 30);
    }
}
