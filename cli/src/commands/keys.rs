use super::Ctx;
use crate::output::print;
use clap::Subcommand;
use consort_sdk::{KeyFile, Keypair};
use serde_json::json;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Generate a new key and store it under NAME.
    New { name: String },
    /// List the keys in the keystore.
    List,
    /// Show the address and public key of a key.
    Show { name: String },
    /// Store an existing ed25519 secret key (64 hex characters) under NAME.
    Import {
        name: String,
        /// The secret key; read from the CONSORT_SECRET_KEY environment variable if omitted.
        #[arg(long, env = "CONSORT_SECRET_KEY", hide_env_values = true)]
        secret: String,
    },
}

fn public_view(k: &KeyFile) -> serde_json::Value {
    json!({ "name": k.name, "address": k.address, "public_key": k.public_key })
}

pub fn run(ctx: &Ctx, cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::New { name } => {
            let file = ctx.keystore.add(&name, &Keypair::generate())?;
            print(ctx.json, &public_view(&file), || format!("created key {} with address {}", file.name, file.address));
        }
        KeysCommand::List => {
            let keys = ctx.keystore.list()?;
            let views: Vec<_> = keys.iter().map(public_view).collect();
            print(ctx.json, &views, || {
                if keys.is_empty() {
                    format!("no keys in {}", ctx.keystore.dir().display())
                } else {
                    keys.iter().map(|k| format!("{:<16} {}", k.name, k.address)).collect::<Vec<_>>().join("\n")
                }
            });
        }
        KeysCommand::Show { name } => {
            let (file, _) = ctx.keystore.get(&name)?;
            print(ctx.json, &public_view(&file), || {
                format!("name:       {}\naddress:    {}\npublic key: {}", file.name, file.address, file.public_key)
            });
        }
        KeysCommand::Import { name, secret } => {
            let mut bytes = [0u8; 32];
            hex::decode_to_slice(secret.trim().trim_start_matches("0x"), &mut bytes)
                .map_err(|_| anyhow::anyhow!("the secret key must be 64 hex characters (32 bytes)"))?;
            let file = ctx.keystore.add(&name, &Keypair::from_secret(bytes))?;
            print(ctx.json, &public_view(&file), || {
                format!("imported key {} with address {}", file.name, file.address)
            });
        }
    }
    Ok(())
}
