# Reference log-likelihoods from R's mclust for tests/test_mclust_reference.py.
# Run from the repository root (needs r-base-core and r-cran-mclust):
#   Rscript tools/mclust_reference.R
# iris and wine are read from tests/data/{iris,wine}.csv; faithful (R's datasets), diabetes and
# banknote (mclust's) are first written there from R, numeric columns only, so the tests read
# exactly what mclust saw. For each data set, model and number of components G = 1..6 it writes
# tests/data/mclust_reference.csv: mclust's BIC (its sign: 2 loglik - npar log n), the parameter
# count (nMclustParams) and the log-likelihood they imply. Mclust's defaults throughout: the
# start is model-based hierarchical agglomeration (VVV) on the scaled SVD of the data.
suppressPackageStartupMessages(library(mclust))
models <- c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV")
data_dir <- file.path("tests", "data")
exported <- list(
  faithful = datasets::faithful,
  diabetes = mclust::diabetes[, -1],
  banknote = mclust::banknote[, -1]
)
for (name in names(exported)) {
  write.table(exported[[name]], file.path(data_dir, paste0(name, ".csv")), sep = ",",
              row.names = FALSE, col.names = FALSE)
}
rows <- list()
for (name in c("faithful", "iris", "wine", "diabetes", "banknote")) {
  X <- as.matrix(read.csv(file.path(data_dir, paste0(name, ".csv")), header = FALSE))
  n <- nrow(X)
  d <- ncol(X)
  bic <- mclustBIC(X, G = 1:6, modelNames = models, verbose = FALSE)
  for (model in models) {
    for (G in 1:6) {
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
write.csv(out, file.path(data_dir, "mclust_reference.csv"), row.names = FALSE)
cat("mclust", as.character(packageVersion("mclust")), ":", nrow(out), "rows\n")

# mclust's hierarchical start itself, for tests/test_hierarchy.py: the partitions of its default
# tree (model VVV on the scaled SVD of the data) into G = 1..6 clusters, one column per G.
for (name in c("iris", "wine", "diabetes", "banknote")) {
  X <- as.matrix(read.csv(file.path(data_dir, paste0(name, ".csv")), header = FALSE))
  partitions <- hclass(hc(X, modelName = "VVV", use = "SVD"), 1:6)
  write.table(partitions, file.path(data_dir, paste0("mclust_hc_", name, ".csv")), sep = ",",
              row.names = FALSE, col.names = FALSE)
}
