//! SDP checks usable before anything is queued to a worker.

/// Parse an SDP offer; `Err` carries a message fit for the client.
pub fn validate_offer(sdp: &str) -> Result<(), String> {
    str0m::change::SdpOffer::from_sdp_string(sdp).map(|_| ()).map_err(|e| format!("cannot parse SDP offer: {e}"))
}

/// Parse an SDP answer; `Err` carries a message fit for the client.
pub fn validate_answer(sdp: &str) -> Result<(), String> {
    str0m::change::SdpAnswer::from_sdp_string(sdp).map(|_| ()).map_err(|e| format!("cannot parse SDP answer: {e}"))
}
