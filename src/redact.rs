//! Secret redaction before anything leaves the machine (issue 8).
