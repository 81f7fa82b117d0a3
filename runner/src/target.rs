//! The system and domain an operator's command works on (`huddle replay`, `huddle
//! dead-letters`): a data folder `huddle serve --data` made, or a system on an AWS endpoint.

use crate::{domains, Domain, LocalSecrets, Storage, DATABASE_FILE};
use huddle_accounts::ThrottleSettings;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct SystemTarget {
    /// The domain, as `huddle serve` names it (e.g. accounts).
    pub domain: String,
    /// The data folder of the system (default: ./.huddle). With --aws-endpoint, the folder that
    /// keeps that system's secrets.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The system runs on the AWS adapters against this endpoint (an emulator such as moto).
    #[arg(long, value_name = "URL")]
    pub aws_endpoint: Option<String>,
    /// The prefix of the system's resource names on the endpoint.
    #[arg(long, value_name = "PREFIX", default_value = "huddle-local-", requires = "aws_endpoint")]
    pub aws_prefix: String,
}

/// A system found where a [`SystemTarget`] points, with the domain it names.
pub struct TargetSystem {
    pub storage: Storage,
    pub secrets: LocalSecrets,
    pub domain: Arc<dyn Domain>,
}

impl SystemTarget {
    pub fn open(&self) -> Result<TargetSystem, String> {
        let data = self.data.clone().unwrap_or_else(|| PathBuf::from(".huddle"));
        let (storage, secrets) = match &self.aws_endpoint {
            Some(endpoint) => (
                Storage::Aws { endpoint: endpoint.clone(), prefix: self.aws_prefix.clone() },
                LocalSecrets::for_endpoint(&data, endpoint, &self.aws_prefix),
            ),
            // A folder without a database holds no system: working on it would make an empty one.
            None if data.join(DATABASE_FILE).is_file() => {
                (Storage::Folder(data.clone()), LocalSecrets::in_folder(&data))
            }
            None => {
                return Err(format!(
                    "{} holds no huddle system (run `huddle serve --data` there first)",
                    data.display()
                ))
            }
        };
        let secrets = secrets.map_err(|error| format!("cannot use data folder {error}"))?;
        let all = domains(&secrets, ThrottleSettings::LOCAL);
        let Some(domain) = all.iter().find(|domain| domain.name() == self.domain).cloned() else {
            let known: Vec<&str> = all.iter().map(|domain| domain.name()).collect();
            return Err(format!("no domain {:?}; the domains are {}", self.domain, known.join(", ")));
        };
        Ok(TargetSystem { storage, secrets, domain })
    }
}
