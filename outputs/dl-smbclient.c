#include "outputs/dl-smbclient.h"

SCAND_DL_DEFINE(smbc_free_context);
SCAND_DL_DEFINE(smbc_getFunctionClose);
SCAND_DL_DEFINE(smbc_getFunctionMkdir);
SCAND_DL_DEFINE(smbc_getFunctionOpen);
SCAND_DL_DEFINE(smbc_getFunctionRename);
SCAND_DL_DEFINE(smbc_getFunctionStat);
SCAND_DL_DEFINE(smbc_getFunctionUnlink);
SCAND_DL_DEFINE(smbc_getFunctionWrite);
SCAND_DL_DEFINE(smbc_getOptionUserData);
SCAND_DL_DEFINE(smbc_init_context);
SCAND_DL_DEFINE(smbc_new_context);
SCAND_DL_DEFINE(smbc_setDebug);
SCAND_DL_DEFINE(smbc_setFunctionAuthDataWithContext);
SCAND_DL_DEFINE(smbc_setLogCallback);
SCAND_DL_DEFINE(smbc_setOptionFallbackAfterKerberos);
SCAND_DL_DEFINE(smbc_setOptionNoAutoAnonymousLogin);
SCAND_DL_DEFINE(smbc_setOptionOneSharePerServer);
SCAND_DL_DEFINE(smbc_setOptionProtocols);
SCAND_DL_DEFINE(smbc_setOptionSmbEncryptionLevel);
SCAND_DL_DEFINE(smbc_setOptionUseCCache);
SCAND_DL_DEFINE(smbc_setOptionUseKerberos);
SCAND_DL_DEFINE(smbc_setOptionUserData);
SCAND_DL_DEFINE(smbc_setPort);
SCAND_DL_DEFINE(smbc_setTimeout);
SCAND_DL_DEFINE(smbc_setUser);
SCAND_DL_DEFINE(smbc_setWorkgroup);

static const ScandDlSymbol symbols[] = {
  SCAND_DL_SYMBOL(smbc_free_context),
  SCAND_DL_SYMBOL(smbc_getFunctionClose),
  SCAND_DL_SYMBOL(smbc_getFunctionMkdir),
  SCAND_DL_SYMBOL(smbc_getFunctionOpen),
  SCAND_DL_SYMBOL(smbc_getFunctionRename),
  SCAND_DL_SYMBOL(smbc_getFunctionStat),
  SCAND_DL_SYMBOL(smbc_getFunctionUnlink),
  SCAND_DL_SYMBOL(smbc_getFunctionWrite),
  SCAND_DL_SYMBOL(smbc_getOptionUserData),
  SCAND_DL_SYMBOL(smbc_init_context),
  SCAND_DL_SYMBOL(smbc_new_context),
  SCAND_DL_SYMBOL(smbc_setDebug),
  SCAND_DL_SYMBOL(smbc_setFunctionAuthDataWithContext),
  SCAND_DL_SYMBOL(smbc_setLogCallback),
  SCAND_DL_SYMBOL(smbc_setOptionFallbackAfterKerberos),
  SCAND_DL_SYMBOL(smbc_setOptionNoAutoAnonymousLogin),
  SCAND_DL_SYMBOL(smbc_setOptionOneSharePerServer),
  SCAND_DL_SYMBOL(smbc_setOptionProtocols),
  SCAND_DL_SYMBOL(smbc_setOptionSmbEncryptionLevel),
  SCAND_DL_SYMBOL(smbc_setOptionUseCCache),
  SCAND_DL_SYMBOL(smbc_setOptionUseKerberos),
  SCAND_DL_SYMBOL(smbc_setOptionUserData),
  SCAND_DL_SYMBOL(smbc_setPort),
  SCAND_DL_SYMBOL(smbc_setTimeout),
  SCAND_DL_SYMBOL(smbc_setUser),
  SCAND_DL_SYMBOL(smbc_setWorkgroup),
  { NULL, NULL },
};

static ScandDlLibrary library = { .soname = "libsmbclient.so.0", .purpose = "SMB delivery", .symbols = symbols };

gboolean dl_smbclient_load(GError **error) {
  return scand_dl_load(&library, error);
}
