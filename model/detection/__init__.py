"""Detection of case heads (and later painted text lines) in original-image pixels."""
