/*
 * serving.h — the serving subsystem of the extension: one model in shared
 * memory for every backend, loaded from a file, S3 or the MLflow registry,
 * swapped live, one version per statement.
 *
 *   guc.c             settings (taxi_duration.*)
 *   shmem.c           the shared control block and the published model (DSM)
 *   model_load.c      fetch → compile → publish (load_model, default model)
 *   model_fetch.c     reading a bundle's bytes from a URI
 *   aws_credentials.c the AWS shared credentials file
 *   model_cache.c     each backend's mappings of the served models
 *   statement_model.c one model version per statement (executor hooks)
 *   predict.c         predict_duration() in its three forms
 *   trigger.c         fill_predicted_duration() trigger
 *   model_info.c      model_info(), load_model() SQL entry points
 *   access.c          who may load what and see which details; the
 *                     ALTER SYSTEM check on taxi_duration.model_uri
 *   loader_worker.c   the background worker that loads the configured model
 *                     at start-up and when taxi_duration.model_uri changes
 *   model_errors.c    model library errors as PostgreSQL errors
 *
 * Allowed dependencies: the glue (glue/), the model, AWS and common
 * libraries.  Not monitoring, not decoding.
 */
#ifndef TD_SERVING_H
#define TD_SERVING_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "storage/dsm.h"
#include "storage/latch.h"
#include "glue/glue.h"
#include "td_model.h"

/* Role allowed to load models and change taxi_duration.model_uri. */
#define TD_ADMIN_ROLE "taxi_duration_admin"

#define TD_SOURCE_MAX 1024
#define TD_SHA256_HEX_LEN 64

/* guc.c */
extern char *td_model_uri;
extern int	 td_max_bundle_size_kb;
extern int	 td_load_retry_seconds;
extern int	 td_poll_interval_seconds;
extern int	 td_fetch_timeout_seconds;
extern char *td_database;
extern char *td_aws_region;
extern char *td_aws_endpoint_url;
extern char *td_aws_shared_credentials_file;
extern char *td_aws_profile;
extern char *td_mlflow_tracking_uri;
extern int	 td_debug_delay_before_publish_ms;
extern int	 td_debug_delay_while_publishing_ms;
extern void	 TdGucInit(void);

/* shmem.c */
typedef struct TdPublishedModel
{
	uint64		generation; /* 0: nothing published yet */
	dsm_handle	handle;
	Size		image_bytes;
	int64		bundle_bytes;
	TimestampTz loaded_at;
	Oid			loaded_by;
	char		source[TD_SOURCE_MAX];
	char		sha256[TD_SHA256_HEX_LEN + 1];
} TdPublishedModel;

extern bool			td_shmem_ready;
extern void			TdShmemInit(void);
extern void			TdRequireSharedState(void);
extern uint64		TdCurrentGeneration(void);
extern uint64		TdPublishModel(const td_image *image, Size image_bytes,
								   const char *source, const char *sha256,
								   int64 bundle_bytes);
extern dsm_segment *TdAttachPublished(uint64			wanted_generation,
									  TdPublishedModel *published,
									  bool			   *already_mapped);
extern bool			TdGetPublished(TdPublishedModel *published);
/* Why the last automatic load failed; `detail` may name server paths. */
#define TD_EVENT_MESSAGE_MAX 512
typedef struct TdLoadFailure
{
	TimestampTz at;
	char		source[TD_SOURCE_MAX];
	char		message[TD_EVENT_MESSAGE_MAX];
	char		detail[TD_EVENT_MESSAGE_MAX];
} TdLoadFailure;

extern void TdRecordLoadFailure(const char *source, const char *message,
								const char *detail);
extern bool TdLastLoadFailure(TdLoadFailure *failure);

/* One model load attempt, kept in a shared ring until written to model_loads. */
typedef struct TdLoadEvent
{
	uint64		seq; /* 1, 2, ... cluster-wide */
	TimestampTz at;
	bool		ok;
	uint64		generation; /* published generation, when ok */
	int			pid;
	Oid			roleid;		 /* InvalidOid for the loader worker */
	char		trigger[32]; /* "load_model", "first use", "worker" ... */
	char		source[TD_SOURCE_MAX];
	char		resolved_uri[TD_SOURCE_MAX];
	char		model_version[128];
	char		sha256[TD_SHA256_HEX_LEN + 1];
	char		message[TD_EVENT_MESSAGE_MAX]; /* never names a server path */
	char		detail[TD_EVENT_MESSAGE_MAX];  /* may: privileged roles only */
} TdLoadEvent;

/* Load events kept in shared memory (a ring; recent_model_loads() shows it). */
#define TD_HISTORY_SLOTS 64

extern void TdRecordLoadEvent(TdLoadEvent *event);
extern int	TdCopyLoadEvents(uint64 after_seq, TdLoadEvent *events, int max_events,
							 uint64 *lost);
extern void TdSetLoaderLatch(Latch *latch);
extern bool TdBeginLoad(bool wait);
extern void TdEndLoad(void);
extern void TdLoadCleanup(int code, Datum arg);

/* access.c */
extern bool	 TdCallerSeesDetails(void);
extern bool	 TdIsDefaultBundleUri(const char *uri);
extern void	 TdCheckFileUriAllowed(const char *uri, const char *message);
extern void	 TdCheckLoadPermission(const char *uri);
extern void	 TdAccessInit(void);
extern char *TdRedactUri(const char *uri);
extern bool	 TdUrlHasUserinfo(const char *url);

/* aws_credentials.c */
typedef struct TdAwsCredentials
{
	char access_key_id[128];
	char secret_access_key[256];
	char session_token[4096];
} TdAwsCredentials;

extern void TdReadAwsCredentials(const char *path, const char *profile,
								 TdAwsCredentials *credentials);
extern void TdForgetAwsCredentials(TdAwsCredentials *credentials);

/* model_fetch.c */
typedef struct TdFetchedBundle
{
	char *data; /* palloc'd, NUL-terminated */
	Size  len;
	char  resolved_uri[TD_SOURCE_MAX]; /* models:/ → the s3:// URI */
	char  registry_version[128];	   /* models:/ → the registry version */
} TdFetchedBundle;

extern void	 TdFetchBundle(const char *uri, Size max_bytes, TdFetchedBundle *out);
extern bool	 TdResolveModel(const char *uri, char *sha256, Size sha256_len,
							char *version, Size version_len,
							char *message, char *detail, Size message_len);
extern char *TdDefaultBundleUri(void);

/* model_load.c */
extern void		   TdLoadModel(const char *uri, const char *trigger, bool automatic);
extern void		   TdLoadModelHeld(const char *uri, const char *trigger, bool automatic);
extern void		   TdEndPublishHold(bool drop_late_cancel);
extern char		  *TdDescribeLoadFailure(const TdLoadFailure *failure, bool full);
extern void		   TdEnsureModelLoaded(void);
extern const char *TdConfiguredUri(void);

/* model_cache.c */
typedef struct TdModelRef TdModelRef;

/* Positions of the standard inputs in the current image, -1 when absent. */
typedef struct TdStandardInputs
{
	int pu_location_id;
	int do_location_id;
	int trip_distance;
	int pickup_datetime;
} TdStandardInputs;

extern TdModelRef			  *TdModelForCall(void);
extern void					   TdModelRefUnpin(TdModelRef *ref);
extern td_predictor			  *TdModelPredictor(TdModelRef *ref);
extern const td_image		  *TdModelImage(TdModelRef *ref);
extern const TdStandardInputs *TdModelStandardInputs(TdModelRef *ref);

/* statement_model.c */
typedef struct TdStatementPin TdStatementPin;

extern void			   TdStatementModelGucInit(void);
extern void			   TdStatementModelInit(void);
extern TdStatementPin *TdActiveStatement(void);
extern uint64		   TdStatementGeneration(TdStatementPin *pin);
extern TdModelRef	  *TdStatementModel(TdStatementPin *pin);
extern void			   TdSetStatementModel(TdStatementPin *pin, TdModelRef *ref,
										   uint64 generation);

/* model_errors.c */
pg_noreturn extern void TdReportModelError(const td_error *error);
extern double			TdPredictOrError(td_predictor *predictor, const td_value *values);

/* predict.c */
extern int64 TdTimestampToCore(Timestamp ts, const char *what);

/* loader_worker.c */
extern void				TdLoaderWorkerRegister(void);
PGDLLEXPORT extern void TdLoaderWorkerMain(Datum main_arg);

#endif /* TD_SERVING_H */
