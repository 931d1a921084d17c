//! Access keys and the Secrets Manager secret a rotation writes them into.

use aws_sdk_iam::types::StatusType;
use warrant_lifecycle::{Applied, KeyRef, StepContext, StepOutput};

use crate::read::{CURRENT, KeyInfo, PREVIOUS};
use crate::{AwsExecutor, NO_SUCH_ENTITY, WriteError, already, changed, has_code, show_time};

/// How long a secret deleted by a rollback can still be restored (`RestoreSecret`).
const SECRET_RECOVERY_DAYS: i64 = 7;

/// The output of an earlier step of the plan.
fn output_of<'a>(
    call: &'static str,
    ctx: &StepContext<'a>,
    step: usize,
    what: &'static str,
) -> Result<&'a StepOutput, WriteError> {
    ctx.outputs
        .get(step)
        .and_then(Option::as_ref)
        .ok_or(WriteError::MissingOutput { call, step, what })
}

/// The key's id, and when it was created if an earlier step recorded it.
fn resolve_key(
    call: &'static str,
    key: &KeyRef,
    ctx: &StepContext<'_>,
) -> Result<(String, Option<warrant_core::Timestamp>), WriteError> {
    match key {
        KeyRef::Id(id) => Ok((id.clone(), None)),
        KeyRef::CreatedByStep(step) => {
            let output = output_of(call, ctx, *step, "access key id")?;
            let id = output
                .access_key_id
                .clone()
                .ok_or(WriteError::MissingOutput {
                    call,
                    step: *step,
                    what: "access key id",
                })?;
            Ok((id, output.key_created))
        }
    }
}

/// What a resumed rotation found.
enum Resumed {
    /// The interrupted call had taken effect: its output, reconstructed.
    TookEffect(StepOutput),
    /// It had not (or its key was orphaned and has been deleted): make the call afresh.
    Again,
}

impl AwsExecutor {
    /// `CreateAccessKey`, then the pair written into the secret; the new key deleted again if
    /// the secret cannot be written.
    pub(crate) async fn create_key_into_secret(
        &self,
        call: &'static str,
        user: &str,
        secret: &str,
        ctx: StepContext<'_>,
    ) -> Result<Applied, WriteError> {
        let target = format!("user {user}, secret {secret}");
        if ctx.resumed
            && let Resumed::TookEffect(output) = self
                .resume_rotation(call, user, secret, ctx.started)
                .await?
        {
            return Ok(Applied::Done(output));
        }
        // Read the secret first: its current version is what a rollback restores, and a secret
        // scheduled for deletion cannot take a value (refused before a key exists to clean up).
        let before = self.secret_state(call, secret).await?;
        if before.as_ref().is_some_and(|s| s.deleted) {
            return Err(WriteError::refused(
                call,
                &target,
                format!(
                    "secret {secret} is scheduled for deletion; restore it (RestoreSecret) or name another secret"
                ),
            ));
        }
        let previous = before.as_ref().and_then(|s| s.version_with(CURRENT));

        let created = self
            .iam
            .create_access_key()
            .user_name(user)
            .send()
            .await
            .map_err(|e| WriteError::call(call, "CreateAccessKey", &target, e))?;
        let Some(key) = created.access_key() else {
            return Err(WriteError::refused(
                call,
                &target,
                "CreateAccessKey answered without a key",
            ));
        };
        let key_id = key.access_key_id().to_string();
        let key_created = key
            .create_date()
            .and_then(crate::timestamp)
            .unwrap_or(ctx.now);
        // The only place the secret half exists: straight into the value, which is moved into
        // the request. Neither is formatted, logged or returned.
        let value = serde_json::json!({
            "AccessKeyId": key_id,
            "SecretAccessKey": key.secret_access_key(),
        })
        .to_string();
        drop(created);

        let written = if before.is_some() {
            self.secrets
                .put_secret_value()
                .secret_id(secret)
                .secret_string(value)
                .send()
                .await
                .map(|out| out.version_id().map(str::to_string))
                .map_err(|e| WriteError::call(call, "PutSecretValue", &target, e))
        } else {
            self.secrets
                .create_secret()
                .name(secret)
                .secret_string(value)
                .send()
                .await
                .map(|out| out.version_id().map(str::to_string))
                .map_err(|e| WriteError::call(call, "CreateSecret", &target, e))
        };
        let version = match written {
            Ok(version) => version,
            Err(error) => return Err(self.discard_new_key(call, user, &key_id, error).await),
        };
        tracing::info!(
            user,
            secret,
            access_key_id = %key_id,
            secret_version = version.as_deref().unwrap_or(""),
            "Created an access key and stored it in the secret."
        );
        Ok(Applied::Done(StepOutput {
            access_key_id: Some(key_id),
            key_created: Some(key_created),
            secret_version: version,
            previous_secret_version: previous,
            note: before.is_none().then(|| format!("created secret {secret}")),
        }))
    }

    /// After a failed secret write: the new key's secret half is lost, so the key is useless
    /// and is deleted again. Returns the write's error, with the clean-up's outcome added.
    async fn discard_new_key(
        &self,
        call: &'static str,
        user: &str,
        key_id: &str,
        error: WriteError,
    ) -> WriteError {
        let cleanup = self
            .iam
            .delete_access_key()
            .user_name(user)
            .access_key_id(key_id)
            .send()
            .await;
        let outcome = match cleanup {
            Ok(_) => format!("the new key {key_id} was deleted again"),
            Err(e) => {
                let cleanup_error = WriteError::call(
                    call,
                    "DeleteAccessKey",
                    format!("key {key_id} of user {user}"),
                    e,
                );
                tracing::error!(
                    user,
                    access_key_id = key_id,
                    error = %cleanup_error,
                    "Could not delete the new access key after the secret write failed."
                );
                format!(
                    "deleting the new key {key_id} again also failed ({cleanup_error}): delete it by hand"
                )
            }
        };
        match error {
            WriteError::Call {
                call: failed,
                operation,
                target,
                message,
            } => WriteError::Call {
                call: failed,
                operation,
                target,
                message: format!("{message}; {outcome}"),
            },
            WriteError::MissingOutput { .. } | WriteError::Refused { .. } => error,
        }
    }

    /// Finds out whether an interrupted `CreateAccessKeyIntoSecret` took effect.
    ///
    /// The rule, chosen to never mistake someone's key for ours:
    /// - The step ran only after `KeySlotFree` held, so it started with at most one key. If the
    ///   user now has two and the secret's current value names the newer one, the step took
    ///   effect: that key is its output.
    /// - If the user has two and the secret does not name the newer one, the newer one is the
    ///   step's orphan (its secret half was never stored, so nobody can use it) — provided it
    ///   has never been used. It is deleted and the call made afresh. A newer key that has been
    ///   used is someone's: refused, for a person to sort out.
    /// - With one key or none, the call is made afresh, even when the secret names the one key:
    ///   that is what the secret held before a rotation, and taking it for the new key would
    ///   have the plan's next steps disable the key in use. (The price, for a user that had no
    ///   key at all and whose step did finish, is one extra key, which a rollback removes.)
    async fn resume_rotation(
        &self,
        call: &'static str,
        user: &str,
        secret: &str,
        started: Option<warrant_core::Timestamp>,
    ) -> Result<Resumed, WriteError> {
        let target = format!("user {user}, secret {secret}");
        let Some(mut keys) = self.keys_of(call, user).await? else {
            return Err(WriteError::refused(
                call,
                &target,
                format!("user {user} does not exist"),
            ));
        };
        if keys.len() < 2 {
            return Ok(Resumed::Again);
        }
        keys.sort_by_key(|k| k.created);
        let (Some(older), Some(newer), None) = (keys.first(), keys.get(1), keys.get(2)) else {
            return Ok(Resumed::Again);
        };
        let ordered = matches!((older.created, newer.created), (Some(a), Some(b)) if a < b);
        if !ordered {
            return Err(WriteError::refused(
                call,
                &target,
                format!(
                    "user {user} has two keys ({older}, {newer}) and their creation dates do not tell which one the interrupted step made: resolve by hand"
                ),
            ));
        }
        // A key older than the interrupted step is not the step's (five minutes allow for the
        // clocks of this machine and AWS disagreeing).
        if let (Some(started), Some(created)) = (started, newer.created)
            && created < started - chrono::Duration::minutes(5)
        {
            return Err(WriteError::refused(
                call,
                &target,
                format!(
                    "user {user} has two keys and the newer one, {}, was created at {}, before this step started at {}: it is not this step's, resolve by hand",
                    newer.id,
                    show_time(&created),
                    show_time(&started)
                ),
            ));
        }
        let named = self.secret_key_id(call, secret).await?;
        if let Some((named_id, version)) = &named
            && *named_id == newer.id
        {
            return Ok(Resumed::TookEffect(
                self.rotation_output(call, secret, newer, version.clone())
                    .await?,
            ));
        }
        let used = self.last_use(call, &newer.id).await?.and_then(|u| u.at);
        if let Some(at) = used {
            return Err(WriteError::refused(
                call,
                &target,
                format!(
                    "user {user} has two keys and the newer one, {}, is not in secret {secret} but was used at {}: it is not this step's, resolve by hand",
                    newer.id,
                    show_time(&at)
                ),
            ));
        }
        match self
            .iam
            .delete_access_key()
            .user_name(user)
            .access_key_id(&newer.id)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if has_code(&e, NO_SUCH_ENTITY) => {}
            Err(e) => return Err(WriteError::call(call, "DeleteAccessKey", &target, e)),
        }
        tracing::warn!(
            user,
            access_key_id = %newer.id,
            "Deleted the unused key an interrupted rotation created but never stored."
        );
        Ok(Resumed::Again)
    }

    /// The output of a rotation found to have taken effect: the secret's current version is
    /// the step's, and the version it moved `AWSPREVIOUS` to is the one it replaced (none when
    /// the step created the secret).
    async fn rotation_output(
        &self,
        call: &'static str,
        secret: &str,
        key: &KeyInfo,
        version: Option<String>,
    ) -> Result<StepOutput, WriteError> {
        let state = self.secret_state(call, secret).await?.unwrap_or_default();
        Ok(StepOutput {
            access_key_id: Some(key.id.clone()),
            key_created: key.created,
            secret_version: version.or_else(|| state.version_with(CURRENT)),
            previous_secret_version: state.version_with(PREVIOUS),
            note: Some(format!(
                "already in place: the interrupted call had stored key {} in secret {secret}",
                key.id
            )),
        })
    }

    pub(crate) async fn await_key_use(
        &self,
        call: &'static str,
        user: &str,
        key: &KeyRef,
        grace_hours: u32,
        ctx: StepContext<'_>,
    ) -> Result<Applied, WriteError> {
        let (key_id, created) = resolve_key(call, key, &ctx)?;
        let target = format!("key {key_id} of user {user}");
        let Some(last_use) = self.last_use(call, &key_id).await? else {
            return Err(WriteError::refused(
                call,
                &target,
                "the key no longer exists",
            ));
        };
        if let Some(owner) = &last_use.user
            && owner != user
        {
            return Err(WriteError::refused(
                call,
                &target,
                format!("the key belongs to user {owner}"),
            ));
        }
        if let Some(at) = last_use.at {
            return Ok(done_note(format!("used at {}", show_time(&at))));
        }
        if grace_hours == 0 {
            return Ok(done_note("not used; no grace period".to_string()));
        }
        let created = match created {
            Some(t) => t,
            None => self
                .keys_of(call, user)
                .await?
                .unwrap_or_default()
                .into_iter()
                .find(|k| k.id == key_id)
                .and_then(|k| k.created)
                .ok_or_else(|| {
                    WriteError::refused(call, &target, "the key's creation date is not known")
                })?,
        };
        let deadline = created + chrono::Duration::hours(i64::from(grace_hours));
        if ctx.now >= deadline {
            Ok(done_note(format!(
                "not used; grace period over at {}",
                show_time(&deadline)
            )))
        } else {
            Ok(Applied::Waiting(format!(
                "waiting for {target} to be used, or until {}",
                show_time(&deadline)
            )))
        }
    }

    pub(crate) async fn set_key_status(
        &self,
        call: &'static str,
        user: &str,
        key: &KeyRef,
        active: bool,
        ctx: StepContext<'_>,
    ) -> Result<Applied, WriteError> {
        let (key_id, _) = resolve_key(call, key, &ctx)?;
        let target = format!("key {key_id} of user {user}");
        let keys = self.keys_of(call, user).await?;
        let Some(found) = keys.iter().flatten().find(|k| k.id == key_id) else {
            // Not "already in place" even for Inactive: the call names a key, and a key that
            // is gone means the world is not the one the plan was written for.
            return Err(WriteError::refused(call, &target, "the key does not exist"));
        };
        if found.active == active {
            return Ok(already(format!("{target} is {}", found.status())));
        }
        let status = if active {
            StatusType::Active
        } else {
            StatusType::Inactive
        };
        self.iam
            .update_access_key()
            .user_name(user)
            .access_key_id(&key_id)
            .status(status.clone())
            .send()
            .await
            .map_err(|e| WriteError::call(call, "UpdateAccessKey", &target, e))?;
        tracing::info!(user, access_key_id = %key_id, status = status.as_str(), "Set the access key's status.");
        Ok(changed())
    }

    pub(crate) async fn delete_key(
        &self,
        call: &'static str,
        user: &str,
        key: &KeyRef,
        ctx: StepContext<'_>,
    ) -> Result<Applied, WriteError> {
        let (key_id, _) = resolve_key(call, key, &ctx)?;
        let target = format!("key {key_id} of user {user}");
        match self
            .iam
            .delete_access_key()
            .user_name(user)
            .access_key_id(&key_id)
            .send()
            .await
        {
            Ok(_) => {
                tracing::info!(user, access_key_id = %key_id, "Deleted the access key.");
                Ok(changed())
            }
            Err(e) if has_code(&e, NO_SUCH_ENTITY) => {
                Ok(already(format!("{target} does not exist")))
            }
            Err(e) => Err(WriteError::call(call, "DeleteAccessKey", &target, e)),
        }
    }

    /// Moves `AWSCURRENT` back to the version the step replaced; a secret the step created is
    /// deleted with a recovery window instead (there is no earlier version to go back to).
    pub(crate) async fn restore_secret_version(
        &self,
        call: &'static str,
        secret: &str,
        step: usize,
        ctx: StepContext<'_>,
    ) -> Result<Applied, WriteError> {
        let target = format!("secret {secret}");
        let output = output_of(call, &ctx, step, "secret version")?;
        let written = output
            .secret_version
            .as_deref()
            .ok_or(WriteError::MissingOutput {
                call,
                step,
                what: "secret version",
            })?;
        let previous = output.previous_secret_version.as_deref();
        let state = self.secret_state(call, secret).await?;
        let Some(state) = state.filter(|s| !s.deleted) else {
            return match previous {
                None => Ok(already(format!(
                    "{target}, created by step {}, is deleted or scheduled for deletion",
                    step + 1
                ))),
                Some(_) => Err(WriteError::refused(
                    call,
                    &target,
                    "the secret is deleted or scheduled for deletion; nothing to restore",
                )),
            };
        };
        let current = state.version_with(CURRENT);
        if current.is_some() && current.as_deref() == previous {
            return Ok(already(format!(
                "{CURRENT} is on version {}",
                previous.unwrap_or_default()
            )));
        }
        if current.as_deref() != Some(written) {
            // Someone wrote the secret after the step: moving the label back would throw their
            // value away.
            return Err(WriteError::refused(
                call,
                &target,
                format!(
                    "{CURRENT} is on version {}, not on version {written} that step {} wrote: the secret changed since; restore it by hand",
                    current.as_deref().unwrap_or("(none)"),
                    step + 1
                ),
            ));
        }
        match previous {
            Some(previous) => {
                self.secrets
                    .update_secret_version_stage()
                    .secret_id(secret)
                    .version_stage(CURRENT)
                    .move_to_version_id(previous)
                    .remove_from_version_id(written)
                    .send()
                    .await
                    .map_err(|e| WriteError::call(call, "UpdateSecretVersionStage", &target, e))?;
                tracing::info!(
                    secret,
                    version = previous,
                    "Moved the secret's current label back."
                );
                Ok(changed())
            }
            None => {
                self.secrets
                    .delete_secret()
                    .secret_id(secret)
                    .recovery_window_in_days(SECRET_RECOVERY_DAYS)
                    .send()
                    .await
                    .map_err(|e| WriteError::call(call, "DeleteSecret", &target, e))?;
                tracing::info!(
                    secret,
                    "Scheduled the secret the rotation created for deletion."
                );
                Ok(done_note(format!(
                    "step {} created the secret, so there is no earlier version: it is scheduled for deletion in {SECRET_RECOVERY_DAYS} days (RestoreSecret recovers it until then)",
                    step + 1
                )))
            }
        }
    }
}

fn done_note(note: String) -> Applied {
    Applied::Done(StepOutput {
        note: Some(note),
        ..StepOutput::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_resolves_from_its_step_output() {
        let outputs = vec![Some(StepOutput {
            access_key_id: Some("AKIANEW".into()),
            ..StepOutput::default()
        })];
        let ctx = StepContext {
            outputs: &outputs,
            now: chrono::DateTime::UNIX_EPOCH,
            resumed: false,
            started: None,
        };
        let (id, created) =
            resolve_key("DeleteAccessKey", &KeyRef::CreatedByStep(0), &ctx).unwrap();
        assert_eq!((id.as_str(), created), ("AKIANEW", None));
        let missing = resolve_key("DeleteAccessKey", &KeyRef::CreatedByStep(1), &ctx).unwrap_err();
        assert!(
            matches!(missing, WriteError::MissingOutput { step: 1, .. }),
            "{missing}"
        );
        assert_eq!(
            missing.to_string(),
            "DeleteAccessKey needs the access key id recorded by step 2, which has none: apply that step first"
        );
    }
}
