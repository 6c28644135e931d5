//! Which state changes are allowed. One table, used by the tracker for every
//! update, whatever its source (exchange stream, REST refill, journal
//! replay).

use super::OrderState;

/// A state change the tracker refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Terminal states are final.
    #[error("order is {from}, a final state; it cannot become {to}")]
    FromTerminal {
        /// The current state.
        from: OrderState,
        /// The refused state.
        to: OrderState,
    },
    /// An order that has fills never goes back to `OPEN`.
    #[error("order has fills; it cannot go back to OPEN")]
    BackToOpenAfterFill,
    /// Any other change that has no meaning (e.g. back to `PENDING_CREATE`).
    #[error("order cannot go from {from} to {to}")]
    NotAllowed {
        /// The current state.
        from: OrderState,
        /// The refused state.
        to: OrderState,
    },
}

/// Checks a change from `from` to `to` for an order that `has_fills`.
/// `FAILED` is decided by the tracker's proof rules, not here.
pub fn check(from: OrderState, to: OrderState, has_fills: bool) -> Result<(), TransitionError> {
    use OrderState::*;
    if from.is_terminal() {
        return Err(TransitionError::FromTerminal { from, to });
    }
    let allowed = match to {
        PendingCreate => false,
        PendingSubmit => from == PendingCreate,
        Open => {
            if has_fills {
                return Err(TransitionError::BackToOpenAfterFill);
            }
            matches!(from, PendingCreate | PendingSubmit | PendingCancel)
        }
        PartiallyFilled => has_fills && from != PartiallyFilled,
        PendingCancel => matches!(from, PendingSubmit | Open | PartiallyFilled),
        Filled | Cancelled | Expired | Failed => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(TransitionError::NotAllowed { from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderState::*;

    const ALL: [OrderState; 9] = [
        PendingCreate,
        PendingSubmit,
        Open,
        PartiallyFilled,
        PendingCancel,
        Filled,
        Cancelled,
        Failed,
        Expired,
    ];

    #[test]
    fn terminal_states_are_final() {
        for from in ALL.into_iter().filter(|s| s.is_terminal()) {
            for to in ALL {
                assert!(check(from, to, false).is_err(), "{from} -> {to}");
                assert!(check(from, to, true).is_err(), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn never_back_to_open_after_a_fill() {
        for from in [PartiallyFilled, PendingCancel, PendingSubmit] {
            assert_eq!(
                check(from, Open, true),
                Err(TransitionError::BackToOpenAfterFill)
            );
        }
        assert!(
            check(PendingCancel, Open, false).is_ok(),
            "a refused cancel"
        );
    }

    #[test]
    fn nothing_returns_to_pending_create() {
        for from in ALL {
            assert!(check(from, PendingCreate, false).is_err());
        }
    }

    #[test]
    fn the_normal_life_is_allowed() {
        assert!(check(PendingCreate, PendingSubmit, false).is_ok());
        assert!(check(PendingSubmit, Open, false).is_ok());
        assert!(check(Open, PartiallyFilled, true).is_ok());
        assert!(check(PartiallyFilled, PendingCancel, true).is_ok());
        assert!(check(PendingCancel, Cancelled, true).is_ok());
        assert!(check(PartiallyFilled, Filled, true).is_ok());
    }
}
