//! Sizes written as `key=value` pairs, e.g. `n=100000,d=64,m=1000,k=10,data=shifted` (the k-NN and
//! k-means labs): parsed here, in one place; each lab fills in its defaults and checks its limits.

/// Declares a lab's data sets once: the enum, its names in order with the default first (for
/// [`crate::lab::LabInfo::data_sets`] and the size parser), and the lookup by name.
macro_rules! data_sets {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$doc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$doc])* $variant,)+
        }

        impl $name {
            /// Every data set's name, the default first.
            pub const NAMES: &'static [&'static str] = &[$($text),+];
            const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// A size as printed: `shape`, and the data set unless it is the default.
            pub fn label(self, shape: &impl std::fmt::Display) -> String {
                if self == Self::ALL[0] { shape.to_string() } else { format!("{shape},data={}", self.name()) }
            }

            /// The data set `data=` named; the default (the first) when none was.
            pub fn named(name: Option<&str>) -> $name {
                Self::ALL.iter().copied().find(|set| Some(set.name()) == name).unwrap_or(Self::ALL[0])
            }
        }

        impl<S: std::fmt::Display> $crate::sizes::Label for (S, $name) {
            fn label(&self) -> String {
                self.1.label(&self.0)
            }
        }
    };
}

pub(crate) use data_sets;

/// How a parsed size is printed and recorded (`1024x1024x1024`, `n=..,d=..,k=..,data=shifted`):
/// two spellings of one size print the same.
pub trait Label {
    fn label(&self) -> String;
}

/// The values of `keys` in `size` (None where a key is left out), and the data set that `data=`
/// names (one of `data_sets`), or an error that quotes the size and says what is expected.
/// `example` is a well-formed size of the lab, for the message.
pub fn parse_keyed<const N: usize>(
    lab: &str,
    size: &str,
    keys: [&str; N],
    data_sets: &[&'static str],
    example: &str,
) -> Result<([Option<usize>; N], Option<&'static str>), String> {
    let syntax = format!("expected keys {} and data, e.g. {example}", keys.join(", "));
    let mut values = [None; N];
    let mut data = None;
    let mut seen = Vec::new();
    for part in size.split(',') {
        let (key, value) = part.split_once('=').ok_or_else(|| format!("malformed {lab} size '{size}': {syntax}"))?;
        let (key, value) = (key.trim(), value.trim());
        if seen.contains(&key) {
            return Err(format!("{lab} size '{size}' gives {key} twice"));
        }
        seen.push(key);
        if key == "data" {
            data = Some(data_sets.iter().copied().find(|&d| d == value).ok_or_else(|| {
                format!("{lab} size '{size}': unknown data set '{value}'; known: {}", data_sets.join(", "))
            })?);
            continue;
        }
        let slot = keys
            .iter()
            .position(|&k| k == key)
            .ok_or_else(|| format!("malformed {lab} size '{size}': unknown key '{key}'; {syntax}"))?;
        let number = value
            .parse()
            .map_err(|_| format!("malformed {lab} size '{size}': {key} must be a non-negative integer; {syntax}"))?;
        values[slot] = Some(number);
    }
    Ok((values, data))
}
