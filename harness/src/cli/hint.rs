//! `cargo lab hint <lab> <exercise> [N]` and `cargo lab reset <lab> <exercise>`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};

use super::{HintArgs, ResetArgs};
use crate::exercises::{self, Exercise, Revealed};

/// The hint to show: `N` when the last word is a number, else the next unseen one.
fn split_number(words: &[String]) -> anyhow::Result<(Vec<String>, Option<usize>)> {
    match words.split_last() {
        Some((last, rest)) if last.chars().all(|c| c.is_ascii_digit()) => {
            let n: usize = last.parse().with_context(|| format!("'{last}' is not a hint number"))?;
            Ok((rest.to_vec(), Some(n)))
        }
        _ => Ok((words.to_vec(), None)),
    }
}

/// What `hint` prints for hint `n` (1-based) of `exercise`.
pub fn render_hint(exercise: &Exercise, n: usize) -> String {
    let total = exercise.hints.len();
    let mut out = format!("{} hint {n} of {total}:\n\n", exercise.id());
    out += &textwrap(&exercise.hints[n - 1], 100);
    out += "\n\n";
    if n < total {
        out += &format!("more: `cargo lab hint {} {}`\n", exercise.id(), n + 1);
    } else {
        out += &format!(
            "that was the last hint; the reference solution is {} (`cargo lab check {}` when you are ready)\n",
            exercise.solution.as_ref().map_or_else(|| solution(&exercise.file), PathBuf::from).display(),
            exercise.id()
        );
    }
    out
}

/// The reference solution beside an exercise file: `solutions/<rung>.rs`, or the folder
/// `solutions/<rung>/` where the rung has several files.
fn solution(exercise_file: &Path) -> PathBuf {
    let dir = exercise_file.parent().and_then(Path::parent).expect("labs/<lab>/exercises/<file>").join("solutions");
    let file = dir.join(exercise_file.file_name().expect("a file name"));
    let folder = dir.join(exercise_file.file_stem().expect("a file name"));
    let in_workspace = |p: &Path| exercises::workspace().is_ok_and(|w| w.join(p).exists());
    if !in_workspace(&file) && in_workspace(&folder) { folder } else { file }
}

/// Breaks `text` into lines of at most `width` characters at spaces (keeping its own line breaks).
fn textwrap(text: &str, width: usize) -> String {
    let mut out = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                out.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push(line);
    }
    out.join("\n")
}

pub fn hint(args: &HintArgs) -> anyhow::Result<ExitCode> {
    let (workspace, all) = exercises::load_all()?;
    let (words, number) = split_number(&args.words)?;
    let exercise = exercises::select_one(&all, &words)?;
    let total = exercise.hints.len();
    let mut revealed = Revealed::load(&exercises::state_dir(&workspace));
    if args.all {
        if let Some(n) = number {
            bail!("--all shows every hint of {}: leave out the hint number {n}, or --all", exercise.id());
        }
        for n in 1..=total {
            print!("{}", render_hint(&exercise, n));
            println!();
        }
        revealed.record(&exercise, total)?;
        return Ok(ExitCode::SUCCESS);
    }
    let n = match number {
        Some(n) if (1..=total).contains(&n) => n,
        Some(n) => bail!("{} has hints 1 to {total}, not {n}", exercise.id()),
        None => (revealed.count(&exercise) + 1).min(total),
    };
    print!("{}", render_hint(&exercise, n));
    revealed.record(&exercise, n)?;
    Ok(ExitCode::SUCCESS)
}

/// Copies the exercise's file to `backups/<lab>-<file>-<unix seconds>.<rs|py>` in `state` (see
/// [`exercises::state_dir`]) and returns the copy's path.
fn back_up(workspace: &Path, state: &Path, exercise: &Exercise) -> anyhow::Result<PathBuf> {
    let dir = state.join("backups");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let stem = exercise.file.file_stem().expect("a file name").to_string_lossy();
    let extension = exercise.file.extension().map_or("rs".into(), |e| e.to_string_lossy());
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut backup = dir.join(format!("{}-{stem}-{stamp}.{extension}", exercise.lab.name()));
    for n in 1.. {
        if !backup.exists() {
            break;
        }
        backup = dir.join(format!("{}-{stem}-{stamp}-{n}.{extension}", exercise.lab.name()));
    }
    std::fs::copy(workspace.join(&exercise.file), &backup)
        .with_context(|| format!("backing up {} to {}", exercise.file.display(), backup.display()))?;
    Ok(backup)
}

/// Restores the shipped scaffold of `exercise` in `workspace`, backing the current file up into
/// `state` first; returns the backup's path (None: the file was already as shipped).
pub fn restore(workspace: &Path, state: &Path, exercise: &Exercise) -> anyhow::Result<Option<PathBuf>> {
    let shipped = std::fs::read(workspace.join(exercise.shipped()))
        .with_context(|| format!("reading the shipped scaffold {}", exercise.shipped().display()))?;
    let target = workspace.join(&exercise.file);
    let backup = match std::fs::read(&target) {
        Ok(current) if current == shipped => return Ok(None),
        Ok(_) => Some(back_up(workspace, state, exercise)?),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None, // deleted: nothing to keep
        Err(error) => return Err(error).with_context(|| format!("reading {}", target.display())),
    };
    std::fs::write(&target, shipped).with_context(|| format!("writing {}", target.display()))?;
    Ok(backup)
}

pub fn reset(args: &ResetArgs) -> anyhow::Result<ExitCode> {
    let (workspace, all) = exercises::load_all()?;
    let exercise = exercises::select_one(&all, &args.exercise)?;
    if exercise.is_as_shipped(&workspace) == Some(true) {
        println!("{} is already as shipped: nothing to do", exercise.file.display());
        return Ok(ExitCode::SUCCESS);
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            bail!("reset replaces {}: confirm with --yes when not at a terminal", exercise.file.display());
        }
        print!(
            "Replace {} with the shipped scaffold? Your version is kept in {} first. [y/N] ",
            exercise.file.display(),
            exercises::state_dir(&workspace).join("backups").display()
        );
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("left as it is");
            return Ok(ExitCode::SUCCESS);
        }
    }
    let state = exercises::state_dir(&workspace);
    match restore(&workspace, &state, &exercise)? {
        Some(backup) => println!(
            "restored {}; your version is in {} (to bring it back: cp {} {})",
            exercise.file.display(),
            backup.display(),
            backup.display(),
            exercise.file.display()
        ),
        None => println!("restored {}", exercise.file.display()),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn a_trailing_number_picks_the_hint() {
        assert_eq!(split_number(&words("matmul your-simd 2")).unwrap(), (words("matmul your-simd"), Some(2)));
        assert_eq!(split_number(&words("matmul your-simd")).unwrap(), (words("matmul your-simd"), None));
    }

    #[test]
    fn long_hints_wrap_at_spaces_and_keep_their_line_breaks() {
        let text = "aaa bbb ccc\nddd";
        assert_eq!(textwrap(text, 7), "aaa bbb\nccc\nddd");
    }

    #[test]
    fn reset_backs_up_the_learners_file_and_restores_the_shipped_one() {
        let real = exercises::workspace().unwrap();
        let all = exercises::load(&real, &perflab_labs::all()).unwrap();
        let exercise = exercises::select_one(&all, &words("matmul your-simd")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (file, shipped) = (dir.path().join(&exercise.file), dir.path().join(exercise.shipped()));
        std::fs::create_dir_all(shipped.parent().unwrap()).unwrap();
        std::fs::copy(real.join(exercise.shipped()), &shipped).unwrap();
        std::fs::write(&file, "// my work\n").unwrap();
        let backup = restore(dir.path(), dir.path(), &exercise).unwrap().expect("an edited file is backed up");
        assert_eq!(std::fs::read_to_string(&backup).unwrap(), "// my work\n");
        assert_eq!(std::fs::read(&file).unwrap(), std::fs::read(&shipped).unwrap());
        assert_eq!(exercise.is_as_shipped(dir.path()), Some(true));
        assert_eq!(restore(dir.path(), dir.path(), &exercise).unwrap(), None, "nothing to back up the second time");
    }

    #[test]
    fn hints_are_revealed_one_at_a_time_and_the_last_points_at_the_solution() {
        let real = exercises::workspace().unwrap();
        let all = exercises::load(&real, &perflab_labs::all()).unwrap();
        let exercise = exercises::select_one(&all, &words("matmul your-simd")).unwrap();
        let total = exercise.hints.len();
        let first = render_hint(&exercise, 1);
        assert!(first.starts_with(&format!("matmul your-simd hint 1 of {total}:")), "{first}");
        assert!(first.contains("more: `cargo lab hint matmul your-simd 2`"), "{first}");
        let last = render_hint(&exercise, total);
        assert!(last.contains("labs/matmul/solutions/simd.rs"), "{last}");
        let dir = tempfile::tempdir().unwrap();
        let mut revealed = Revealed::load(dir.path());
        assert_eq!(revealed.count(&exercise), 0);
        revealed.record(&exercise, 2).unwrap();
        revealed.record(&exercise, 1).unwrap();
        assert_eq!(Revealed::load(dir.path()).count(&exercise), 2, "kept on disk, never lowered");
    }
}
