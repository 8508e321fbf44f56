//! `age-plugin-test`: a tiny age plugin speaking the same protocol as a
//! hardware plugin (age-plugin-yubikey, -tpm, -se), for authcfg's tests
//! (tests/it/age_plugin.rs). It wraps file keys with a fixed X25519 key of
//! its own under the stanza tag `test`, so only it can unwrap them.
//!
//! Run without arguments it prints an identity and its recipient, as a
//! hardware plugin's `--generate` does. Switches, from the environment:
//! - `AGE_PLUGIN_TEST_CONFIRM=1`: before unwrapping, show a message and
//!   ask a confirm question ("touch the key"); "no" fails the unwrap.
//! - `AGE_PLUGIN_TEST_FAIL=1`: exit with an error instead of answering.

use age::{Identity as _, Recipient as _};
use age_core::format::{FileKey, Stanza};
use age_plugin::{
    identity::{self, IdentityPluginV1},
    print_new_identity,
    recipient::{self, RecipientPluginV1},
    run_state_machine, Callbacks, PluginHandler,
};
use std::collections::{HashMap, HashSet};
use std::io;
use std::str::FromStr;

const NAME: &str = "test";
/// The plugin's own key: a hardware plugin keeps this in the device.
const KEY: &str = "AGE-SECRET-KEY-1QRC2NT5LYWW0VEMXRFJCK9C24XHSLQ9WHTDFS0MRGJ5WAQJ0DVGSVL7342";

fn key() -> age::x25519::Identity {
    age::x25519::Identity::from_str(KEY).expect("valid key")
}

fn fail_if_asked() {
    if std::env::var("AGE_PLUGIN_TEST_FAIL").is_ok_and(|v| v == "1") {
        eprintln!("age-plugin-test: the test key is not plugged in");
        std::process::exit(1);
    }
}

struct Handler;

impl PluginHandler for Handler {
    type RecipientV1 = Wrap;
    type IdentityV1 = Unwrap;
    fn recipient_v1(self) -> io::Result<Wrap> {
        Ok(Wrap(0))
    }
    fn identity_v1(self) -> io::Result<Unwrap> {
        Ok(Unwrap)
    }
}

/// How many recipients and identities to wrap to.
struct Wrap(usize);

impl RecipientPluginV1 for Wrap {
    fn add_recipient(
        &mut self,
        index: usize,
        name: &str,
        _: &[u8],
    ) -> Result<(), recipient::Error> {
        if name != NAME {
            return Err(recipient::Error::Recipient {
                index,
                message: "not a test recipient".into(),
            });
        }
        self.0 += 1;
        Ok(())
    }
    fn add_identity(&mut self, index: usize, name: &str, _: &[u8]) -> Result<(), recipient::Error> {
        if name != NAME {
            return Err(recipient::Error::Identity {
                index,
                message: "not a test identity".into(),
            });
        }
        self.0 += 1;
        Ok(())
    }
    fn labels(&mut self) -> HashSet<String> {
        HashSet::new()
    }
    fn wrap_file_keys(
        &mut self,
        file_keys: Vec<FileKey>,
        _callbacks: impl Callbacks<recipient::Error>,
    ) -> io::Result<Result<Vec<Vec<Stanza>>, Vec<recipient::Error>>> {
        fail_if_asked();
        let to = key().to_public();
        let mut out = vec![];
        for fk in file_keys {
            let mut stanzas = vec![];
            for _ in 0..self.0 {
                let (wrapped, _) = to.wrap_file_key(&fk).expect("x25519 wraps");
                stanzas.extend(wrapped.into_iter().map(|mut s| {
                    s.tag = NAME.into();
                    s
                }));
            }
            out.push(stanzas);
        }
        Ok(Ok(out))
    }
}

struct Unwrap;

impl IdentityPluginV1 for Unwrap {
    fn add_identity(&mut self, index: usize, name: &str, _: &[u8]) -> Result<(), identity::Error> {
        if name != NAME {
            return Err(identity::Error::Identity {
                index,
                message: "not a test identity".into(),
            });
        }
        Ok(())
    }
    fn unwrap_file_keys(
        &mut self,
        files: Vec<Vec<Stanza>>,
        mut callbacks: impl Callbacks<identity::Error>,
    ) -> io::Result<HashMap<usize, Result<FileKey, Vec<identity::Error>>>> {
        fail_if_asked();
        let id = key();
        let mut keys = HashMap::new();
        for (i, stanzas) in files.into_iter().enumerate() {
            for mut s in stanzas.into_iter().filter(|s| s.tag == NAME) {
                if std::env::var("AGE_PLUGIN_TEST_CONFIRM").is_ok_and(|v| v == "1") {
                    callbacks
                        .message("age-plugin-test: waiting for the test key")?
                        .ok();
                    match callbacks.confirm("Touch the test key to unlock?", "yes", Some("no"))? {
                        Ok(true) => {}
                        _ => {
                            keys.insert(
                                i,
                                Err(vec![identity::Error::Internal {
                                    message: "the user declined".into(),
                                }]),
                            );
                            break;
                        }
                    }
                }
                s.tag = "X25519".into();
                if let Some(Ok(fk)) = id.unwrap_stanza(&s) {
                    keys.insert(i, Ok(fk));
                    break;
                }
            }
        }
        Ok(keys)
    }
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(sm) = args.iter().find_map(|a| a.strip_prefix("--age-plugin=")) {
        return run_state_machine(sm, Handler);
    }
    print_new_identity(NAME, b"test-key-0", b"test-key-0");
    Ok(())
}
