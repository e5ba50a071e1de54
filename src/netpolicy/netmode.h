/* SPDX-License-Identifier: MIT */
/* netmode.h: enum net_mode belongs to the configuration. */
#pragma once

#include "config/config.h"
