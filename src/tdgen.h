/*-------------------------------------------------------------------------
 *
 * tdgen.h
 *	  Declarations shared by the tdgen source files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TDGEN_H
#define TDGEN_H

/* Version of the library, from tdgen.control at build time. */
#ifndef TDGEN_VERSION
#error "TDGEN_VERSION must be defined by the build"
#endif

/* Prefix of every tdgen configuration parameter. */
#define TDGEN_GUC_PREFIX "tdgen"

#endif							/* TDGEN_H */
