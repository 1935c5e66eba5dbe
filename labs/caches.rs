//! The cache hierarchy as the OS reports it: each level's size, line size, associativity and how
//! many logical CPUs share it. Linux reads sysfs; macOS asks `sysctl`; elsewhere the hierarchy is
//! unknown and says so. Read by the harness's machine limits (`cargo lab machine`).

use serde::{Deserialize, Serialize};

/// One cache as the OS describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cache {
    pub level: u32,
    /// `Data`, `Instruction` or `Unified`.
    pub kind: String,
    pub size_bytes: u64,
    pub line_bytes: Option<u64>,
    /// Ways of associativity, where the OS says.
    pub ways: Option<u64>,
    /// Logical CPUs that share this cache, where the OS says (1 for a private L1, every CPU of a
    /// socket or chiplet for a shared L3).
    pub shared_by: Option<usize>,
}

impl Cache {
    /// `L2 1 MiB, 8-way, 64 B lines, per 1 CPU`.
    pub fn describe(&self) -> String {
        let kind = match self.kind.as_str() {
            "Data" => "d",
            "Instruction" => "i",
            _ => "",
        };
        let mut text = format!("L{}{kind} {}", self.level, bytes(self.size_bytes));
        if let Some(ways) = self.ways {
            text += &format!(", {ways}-way");
        }
        if let Some(line) = self.line_bytes {
            text += &format!(", {line} B lines");
        }
        if let Some(cpus) = self.shared_by {
            text += &format!(", shared by {cpus} CPU{}", if cpus == 1 { "" } else { "s" });
        }
        text
    }

    /// Whether it holds data (a data or unified cache, not an instruction cache).
    pub fn holds_data(&self) -> bool {
        self.kind != "Instruction"
    }
}

/// `32 KiB`, `1 MiB`, `1.5 MiB`.
pub fn bytes(size: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let (mut value, mut unit) = (size as f64, 0);
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 { format!("{value} {}", UNITS[unit]) } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// The caches of the first CPU, smallest level first, or why they are unknown.
pub fn hierarchy() -> Result<Vec<Cache>, String> {
    if cfg!(target_os = "linux") {
        linux("/sys/devices/system/cpu/cpu0/cache")
    } else if cfg!(target_os = "macos") {
        macos()
    } else {
        Err(format!("unknown: perflab reads caches on Linux and macOS, not on {}", std::env::consts::OS))
    }
}

/// The data-holding cache of `level`, if the OS reported one.
pub fn data_cache(caches: &[Cache], level: u32) -> Option<&Cache> {
    caches.iter().find(|c| c.level == level && c.holds_data())
}

/// The last level that holds data (L3 on most machines): beyond it, memory.
pub fn last_level(caches: &[Cache]) -> Option<&Cache> {
    caches.iter().filter(|c| c.holds_data()).max_by_key(|c| c.level)
}

/// Reads `index*/{level,type,size,coherency_line_size,ways_of_associativity,shared_cpu_list}`.
fn linux(dir: &str) -> Result<Vec<Cache>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("unknown: {dir} cannot be read ({e})"))?;
    let mut caches = Vec::new();
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with("index") {
            continue;
        }
        let read = |name: &str| std::fs::read_to_string(entry.path().join(name)).ok().map(|s| s.trim().to_string());
        let number = |name: &str| read(name).and_then(|s| s.parse::<u64>().ok()).filter(|&n| n > 0);
        let (Some(level), Some(kind), Some(size)) =
            (number("level"), read("type"), read("size").and_then(|s| parse_size(&s)))
        else {
            continue;
        };
        caches.push(Cache {
            level: level as u32,
            kind,
            size_bytes: size,
            line_bytes: number("coherency_line_size"),
            ways: number("ways_of_associativity"),
            shared_by: read("shared_cpu_list").map(|list| count_cpus(&list)),
        });
    }
    if caches.is_empty() {
        return Err(format!("unknown: {dir} lists no caches"));
    }
    caches.sort_by_key(|c| (c.level, c.kind.clone()));
    Ok(caches)
}

/// sysfs sizes: `32K`, `1024K`, `32M`, or bytes.
fn parse_size(text: &str) -> Option<u64> {
    let (digits, scale) = match text.chars().last()? {
        'K' => (&text[..text.len() - 1], 1 << 10),
        'M' => (&text[..text.len() - 1], 1 << 20),
        'G' => (&text[..text.len() - 1], 1 << 30),
        _ => (text, 1),
    };
    digits.parse::<u64>().ok().map(|n| n * scale)
}

/// CPUs in a list such as `0-3,8,10-11`.
fn count_cpus(list: &str) -> usize {
    list.split(',')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('-') {
            Some((a, b)) => b.parse::<usize>().unwrap_or(0).saturating_sub(a.parse().unwrap_or(0)) + 1,
            None => 1,
        })
        .sum()
}

/// `sysctl -n hw.l1dcachesize hw.l2cachesize hw.l3cachesize hw.cachelinesize` (a level the
/// machine lacks reads 0 and is left out; Apple's chips report no L3).
fn macos() -> Result<Vec<Cache>, String> {
    let keys = ["hw.l1dcachesize", "hw.l2cachesize", "hw.l3cachesize", "hw.cachelinesize"];
    let output = std::process::Command::new("sysctl")
        .arg("-n")
        .args(keys)
        .output()
        .map_err(|e| format!("unknown: sysctl did not run ({e})"))?;
    let values: Vec<u64> =
        String::from_utf8_lossy(&output.stdout).lines().map(|l| l.trim().parse().unwrap_or(0)).collect();
    let line = values.get(3).copied().filter(|&l| l > 0);
    let caches: Vec<Cache> = (0..3)
        .filter_map(|i| {
            let size = values.get(i).copied().filter(|&s| s > 0)?;
            let kind = if i == 0 { "Data" } else { "Unified" };
            Some(Cache {
                level: i as u32 + 1,
                kind: kind.into(),
                size_bytes: size,
                line_bytes: line,
                ways: None,
                shared_by: None,
            })
        })
        .collect();
    if caches.is_empty() { Err("unknown: sysctl reported no cache sizes".into()) } else { Ok(caches) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysfs_sizes_and_cpu_lists_read_as_the_kernel_writes_them() {
        assert_eq!(parse_size("32K"), Some(32 << 10));
        assert_eq!(parse_size("32768K"), Some(32 << 20));
        assert_eq!(parse_size("2M"), Some(2 << 20));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(count_cpus("0"), 1);
        assert_eq!(count_cpus("0-1"), 2);
        assert_eq!(count_cpus("0-3,8,10-11"), 7);
        assert_eq!(bytes(32 << 10), "32 KiB");
        assert_eq!(bytes(3 << 19), "1.5 MiB");
    }

    #[test]
    fn a_fake_sysfs_tree_reads_level_by_level_and_a_missing_one_says_unknown() {
        let dir = std::env::temp_dir().join(format!("perflab-caches-{}", std::process::id()));
        for (index, level, kind, size, shared) in
            [(0, 1, "Data", "48K", "0-1"), (1, 1, "Instruction", "32K", "0"), (2, 2, "Unified", "2048K", "0")]
        {
            let path = dir.join(format!("index{index}"));
            std::fs::create_dir_all(&path).unwrap();
            for (name, value) in [
                ("level", level.to_string()),
                ("type", kind.into()),
                ("size", size.into()),
                ("coherency_line_size", "64".into()),
                ("ways_of_associativity", "12".into()),
                ("shared_cpu_list", shared.into()),
            ] {
                std::fs::write(path.join(name), format!("{value}\n")).unwrap();
            }
        }
        let caches = linux(dir.to_str().unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
        let caches = caches.unwrap();
        assert_eq!(caches.len(), 3);
        let l1d = data_cache(&caches, 1).unwrap();
        assert_eq!((l1d.size_bytes, l1d.ways, l1d.line_bytes, l1d.shared_by), (48 << 10, Some(12), Some(64), Some(2)));
        assert_eq!(data_cache(&caches, 2).unwrap().describe(), "L2 2 MiB, 12-way, 64 B lines, shared by 1 CPU");
        assert!(data_cache(&caches, 3).is_none());
        let missing = linux("/nonexistent/perflab").unwrap_err();
        assert!(missing.starts_with("unknown:"), "{missing}");
    }
}
