"""bayes-igf1: hierarchical Bayesian analysis of ketamine / IGF-1 studies beside the frequentist ANOVA."""
