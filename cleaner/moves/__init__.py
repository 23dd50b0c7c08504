"""Every move face-clean makes: the journal's durable intent first, the verified move, the audit
record, the journal's end; and the recovery of a move a crash interrupted. Below the pipeline, it
knows the audit log and the file plumbing only."""
