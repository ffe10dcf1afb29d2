"""Strip recognition: pre-processing, batched network calls, CTC decoding into n-best hypotheses."""
