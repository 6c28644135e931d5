//! A market's settings on the exchange: leverage and margin mode, set by
//! `set_leverage` and `set_margin_mode` and answered with the venue's word.

use plugin_api::{Operation, OutcomeKind, PluginErrorKind};

use super::command::{CommandError, MarginMode};
use super::{Delivery, Trading};

impl Trading {
    /// Sets `pair`'s leverage and margin mode on the exchange and waits for
    /// its answer; the account is refreshed after a change, so that
    /// positions show it.
    pub async fn set_leverage(
        &self,
        pair: &str,
        leverage: u32,
        margin_mode: MarginMode,
    ) -> Result<(), CommandError> {
        let market = self
            .market_of(pair)
            .ok_or_else(|| CommandError::UnknownMarket(pair.to_owned()))?;
        if leverage == 0 || (market.max_leverage > 0 && leverage > market.max_leverage) {
            let most = match market.max_leverage {
                0 => String::new(),
                most => format!(" (1 to {most})"),
            };
            return Err(CommandError::InvalidSetting(format!(
                "`leverage`: {leverage} is not a leverage {pair} allows{most}"
            )));
        }
        let operation = plugin_api::operation(Operation::SetLeverage {
            market,
            leverage,
            cross: margin_mode == MarginMode::Cross,
        });
        let result = match self.inner.deliver(&operation, || {}, || {}).await.0 {
            Delivery::Answered(reply) if reply.outcome.kind == OutcomeKind::ACCEPTED => Ok(()),
            Delivery::Answered(reply) if reply.outcome.kind == OutcomeKind::UNKNOWN => Err(
                CommandError::OutcomeUnknown(reply.outcome.message.to_string()),
            ),
            Delivery::Answered(reply) => Err(CommandError::Rejected(format!(
                "{}: {}",
                reply.outcome.kind, reply.outcome.message
            ))),
            Delivery::Refused(error) if error.kind == PluginErrorKind::UNSUPPORTED => {
                Err(CommandError::Unsupported(error.message.to_string()))
            }
            Delivery::Refused(error) => Err(CommandError::InvalidSetting(error.to_string())),
            Delivery::NotSent(reason) | Delivery::NotDelivered(reason) => {
                Err(CommandError::Rejected(format!("not sent: {reason}")))
            }
            Delivery::Unknown(reason) => Err(CommandError::OutcomeUnknown(reason)),
        };
        // Whatever came of it, the account shows what is in force.
        self.inner.account.refresh_soon();
        result
    }

    /// Runs `work` on this exchange's runtime from a thread outside it
    /// (the command socket's query thread), and waits for it.
    pub fn block_on<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        self.inner.runtime.block_on(work)
    }
}
