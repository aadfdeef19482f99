"""convgrade: convolution exercises and a grader that keeps learner code behind a process boundary."""
