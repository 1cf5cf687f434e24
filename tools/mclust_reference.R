# Reference log-likelihoods from R's mclust for tests/test_mclust_reference.py.
# Run from the repository root (needs r-base-core and r-cran-mclust):
#   Rscript tools/mclust_reference.R
# It reads tests/data/{iris,wine}.csv and writes tests/data/mclust_reference.csv: for each data
# set, model and number of components, mclust's BIC (its sign: 2 loglik - npar log n), the
# parameter count (nMclustParams) and the log-likelihood they imply.
suppressPackageStartupMessages(library(mclust))
models <- c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV")
rows <- list()
for (name in c("iris", "wine")) {
  X <- as.matrix(read.csv(file.path("tests", "data", paste0(name, ".csv")), header = FALSE))
  n <- nrow(X)
  d <- ncol(X)
  bic <- mclustBIC(X, G = 1:5, modelNames = models, verbose = FALSE)
  for (model in models) {
    for (G in 1:5) {
      value <- bic[as.character(G), model]
      if (is.na(value)) next
      npar <- nMclustParams(model, d, G)
      loglik <- (value + npar * log(n)) / 2
      rows[[length(rows) + 1]] <- data.frame(dataset = name, model = model, G = G,
                                              bic = value, npar = npar, loglik = loglik)
    }
  }
}
out <- do.call(rbind, rows)
write.csv(out, file.path("tests", "data", "mclust_reference.csv"), row.names = FALSE)
cat("mclust", as.character(packageVersion("mclust")), ":", nrow(out), "rows\n")
