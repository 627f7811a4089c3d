/* Samba's SMB client library, loaded on the first SMB delivery. sym_<function> has the type
 * of the library's own prototype; call dl_smbclient_load() before any. */
#pragma once

#include <libsmbclient.h>

#include "scand/base/dl.h"

G_BEGIN_DECLS

/* Loads libsmbclient.so.0 once; FALSE with a one-line error when it cannot. */
gboolean dl_smbclient_load(GError **error);

SCAND_DL_DECLARE(smbc_free_context);
SCAND_DL_DECLARE(smbc_getFunctionClose);
SCAND_DL_DECLARE(smbc_getFunctionMkdir);
SCAND_DL_DECLARE(smbc_getFunctionOpen);
SCAND_DL_DECLARE(smbc_getFunctionRename);
SCAND_DL_DECLARE(smbc_getFunctionStat);
SCAND_DL_DECLARE(smbc_getFunctionUnlink);
SCAND_DL_DECLARE(smbc_getFunctionWrite);
SCAND_DL_DECLARE(smbc_getOptionUserData);
SCAND_DL_DECLARE(smbc_init_context);
SCAND_DL_DECLARE(smbc_new_context);
SCAND_DL_DECLARE(smbc_setDebug);
SCAND_DL_DECLARE(smbc_setFunctionAuthDataWithContext);
SCAND_DL_DECLARE(smbc_setLogCallback);
SCAND_DL_DECLARE(smbc_setOptionFallbackAfterKerberos);
SCAND_DL_DECLARE(smbc_setOptionNoAutoAnonymousLogin);
SCAND_DL_DECLARE(smbc_setOptionOneSharePerServer);
SCAND_DL_DECLARE(smbc_setOptionProtocols);
SCAND_DL_DECLARE(smbc_setOptionSmbEncryptionLevel);
SCAND_DL_DECLARE(smbc_setOptionUseCCache);
SCAND_DL_DECLARE(smbc_setOptionUseKerberos);
SCAND_DL_DECLARE(smbc_setOptionUserData);
SCAND_DL_DECLARE(smbc_setPort);
SCAND_DL_DECLARE(smbc_setTimeout);
SCAND_DL_DECLARE(smbc_setUser);
SCAND_DL_DECLARE(smbc_setWorkgroup);

G_END_DECLS
