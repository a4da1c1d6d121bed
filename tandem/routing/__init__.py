"""Every lead gets a human: MQL, routing rules, hand-offs accepted or sent back with a reason."""
