# Reference MAP M-steps from R's mclust for tests/test_mclust_reference.py (priors).
# Run from the repository root (needs r-base-core and r-cran-mclust):
#   Rscript tools/mclust_prior_reference.R
# For each data set of tests/data and G = 2, 3 it runs mclust's M-step (mstep) with a prior on
# fixed responsibilities, the rows split into G consecutive blocks of equal size (so the test
# rebuilds them without storing them), and writes each component's mean and covariance to
# tests/data/mclust_prior_reference.csv, one row each, the values joined by spaces (covariances
# in column-major order). The prior is given explicitly, so gaussmix can be handed the same:
# the data mean, shrinkage 0.01, d + 2 degrees of freedom, and as scale the data covariance
# (var(), denominator n - 1) divided by G^(2/d), or for the diagonal models the mean of its
# diagonal. Only the models whose mclust M-step is the posterior mode of the published prior are
# written: VII, VVI, EEE, VVV, and EEI (whose mclust M-step reports the data means, not the
# means pulled towards the prior mean, so only its covariances compare).
suppressPackageStartupMessages(library(mclust))
models <- c("VII", "VVI", "EEI", "EEE", "VVV")
data_dir <- file.path("tests", "data")
rows <- list()
joined <- function(v) paste(sprintf("%.17g", v), collapse = " ")
for (name in c("faithful", "iris", "diabetes", "banknote")) {
  X <- as.matrix(read.csv(file.path(data_dir, paste0(name, ".csv")), header = FALSE))
  n <- nrow(X)
  d <- ncol(X)
  for (G in c(2, 3)) {
    z <- unmap(((seq_len(n) - 1) * G) %/% n + 1)
    S <- var(X) / G^(2 / d)
    for (model in models) {
      diagonal <- model %in% c("VII", "VVI", "EEI")
      prior <- priorControl(mean = colMeans(X), shrinkage = 0.01, dof = d + 2,
                            scale = if (diagonal) mean(diag(S)) else S)
      fit <- mstep(data = X, modelName = model, z = z, prior = prior)
      for (k in 1:G) {
        rows[[length(rows) + 1]] <- data.frame(
          dataset = name, model = model, G = G, component = k - 1,
          mean = joined(fit$parameters$mean[, k]),
          covariance = joined(fit$parameters$variance$sigma[, , k]))
      }
    }
  }
}
out <- do.call(rbind, rows)
write.csv(out, file.path(data_dir, "mclust_prior_reference.csv"), row.names = FALSE)
