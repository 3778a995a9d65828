/* SPDX-License-Identifier: BSD-3-Clause */
/* engine_drops.h - drop reasons of the engine module (see sb_drop.h). Owned by that module. */
#ifndef SB_ENGINE_DROPS_H
#define SB_ENGINE_DROPS_H

#define ENGINE_DROPS(X) X(ENGINE_PLACEHOLDER, "engine_placeholder", "replace with the module's reasons")

#endif
