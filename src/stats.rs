//! Pure math: confidence intervals, paired differences, queueing-theory formulas.
