// Umbrella header: everything a program needs to fit and use Gaussian mixtures.
#pragma once

#include "gaussmix/accumulate.hpp"
#include "gaussmix/em.hpp"
#include "gaussmix/errors.hpp"
#include "gaussmix/hierarchy.hpp"
#include "gaussmix/impute.hpp"
#include "gaussmix/io.hpp"
#include "gaussmix/kmeans.hpp"
#include "gaussmix/maximize.hpp"
#include "gaussmix/mixture.hpp"
#include "gaussmix/model.hpp"
#include "gaussmix/prior.hpp"
#include "gaussmix/queries.hpp"
#include "gaussmix/stats.hpp"
#include "gaussmix/types.hpp"
