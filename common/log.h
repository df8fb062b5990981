/* SPDX-License-Identifier: BSD-3-Clause
 *
 * log.h: logging for control paths (start-up, config, command socket, helper threads).
 *
 * Never called per packet: the hot path counts instead of logging (STYLE.md rule 10).
 * Messages go to stderr with a wall-clock timestamp and the program name, one line each,
 * so that journald, a terminal and the test logs all read them the same way.
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include "compiler.h"

enum log_level { LOG_LEVEL_ERR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_set_program(const char *name);
void log_set_level(enum log_level level);
void log_message(enum log_level level, const char *fmt, ...) sluice_printf(2, 3);

#define log_err(...)   log_message(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...)  log_message(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_message(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_message(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif /* SLUICE_LOG_H */
